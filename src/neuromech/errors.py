"""Errors the library raises; the CLI prints their message and exits non-zero."""

from __future__ import annotations


class NeuroMechError(Exception):
    """Base class of every error with a message meant for the user."""

    exit_code = 1


class SourceSyntaxError(NeuroMechError):
    """A source file (Turtle, SPARQL) could not be parsed."""

    exit_code = 2


class ValidationFailed(NeuroMechError):
    """The data violate the SHACL shapes or another integrity rule."""

    exit_code = 3


class InconsistentOntology(NeuroMechError):
    """The reasoner found the ontology plus data inconsistent."""

    exit_code = 4


class UsageError(NeuroMechError):
    """A command was called with an unknown name or a malformed parameter."""

    exit_code = 64


class ReasonerUnavailable(NeuroMechError):
    """HermiT cannot be started (no Java runtime)."""

    exit_code = 5
