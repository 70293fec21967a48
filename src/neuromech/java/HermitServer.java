import java.io.BufferedReader;
import java.io.File;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.List;

import org.semanticweb.HermiT.Configuration;
import org.semanticweb.HermiT.Reasoner;
import org.semanticweb.owlapi.apibinding.OWLManager;
import org.semanticweb.owlapi.model.AddAxiom;
import org.semanticweb.owlapi.model.IRI;
import org.semanticweb.owlapi.model.OWLAxiom;
import org.semanticweb.owlapi.model.OWLDataFactory;
import org.semanticweb.owlapi.model.OWLLiteral;
import org.semanticweb.owlapi.model.OWLOntology;
import org.semanticweb.owlapi.model.OWLOntologyChange;
import org.semanticweb.owlapi.model.OWLOntologyManager;
import org.semanticweb.owlapi.model.RemoveAxiom;
import org.semanticweb.owlapi.reasoner.InconsistentOntologyException;

/**
 * HermiT's consistency check kept warm between the rebuilds of a NeuroMech KG build session.
 *
 * <p>The HermiT command line parses its input, clausifies it and builds a model on every run,
 * in a JVM that starts cold each time. This server keeps the JVM, the parsed entity layer and
 * the JIT-compiled reasoner between checks, and takes the layer's changes as axioms, so a
 * rebuild's check costs the clausification and the model alone. It is driven by
 * {@code neuromech.hermit_server} over stdin/stdout, one request a line, fields separated
 * by tabs, one reply line each:
 *
 * <ul>
 *   <li>{@code load <path>}: parse the N-Triples document at path as the ontology (replacing
 *       any earlier one); reply {@code ok <axiom count>}.
 *   <li>{@code apply <path>}: apply the changes listed in the file at path, one a line:
 *       {@code +} or {@code -}, then {@code class <class> <individual>}, {@code object
 *       <property> <subject> <object>} or {@code data <property> <subject> <lexical form>
 *       <datatype IRI or empty> <language tag or empty>}, tab-separated, with tabs, newlines
 *       and backslashes in the lexical form escaped as {@code \t}, {@code \n}, {@code \\};
 *       reply {@code ok <axiom count>}. The changes are applied together or not at all.
 *   <li>{@code check}: is the ontology consistent? reply {@code consistent} or {@code
 *       inconsistent}.
 * </ul>
 *
 * <p>A request that fails gets {@code error <message>} and leaves the ontology as it was.
 * End of input stops the server.
 */
public final class HermitServer {
    private OWLOntologyManager manager;
    private OWLOntology ontology;

    public static void main(String[] args) throws Exception {
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        PrintStream out = new PrintStream(System.out, true, "UTF-8");
        HermitServer server = new HermitServer();
        String line;
        while ((line = in.readLine()) != null) {
            String reply;
            try {
                reply = server.handle(line.split("\t", -1));
            } catch (Exception | StackOverflowError | OutOfMemoryError e) {
                reply = "error\t" + oneLine(e.toString());
            }
            out.println(reply);
        }
    }

    private static String oneLine(String text) {
        return text.replace('\n', ' ').replace('\r', ' ').replace('\t', ' ');
    }

    private String handle(String[] request) throws Exception {
        switch (request[0]) {
            case "load":
                return load(new File(request[1]));
            case "apply":
                return apply(new File(request[1]));
            case "check":
                return check();
            default:
                return "error\tunknown request '" + oneLine(request[0]) + "'";
        }
    }

    private String load(File document) throws Exception {
        OWLOntologyManager fresh = OWLManager.createOWLOntologyManager();
        OWLOntology parsed = fresh.loadOntologyFromOntologyDocument(document);
        manager = fresh;
        ontology = parsed;
        return "ok\t" + ontology.getAxiomCount();
    }

    private String apply(File changes) throws Exception {
        if (ontology == null) {
            return "error\tno ontology loaded";
        }
        OWLDataFactory factory = manager.getOWLDataFactory();
        List<OWLOntologyChange> batch = new ArrayList<OWLOntologyChange>();
        int number = 0;
        for (String line : Files.readAllLines(changes.toPath(), StandardCharsets.UTF_8)) {
            number++;
            if (line.isEmpty()) {
                continue;
            }
            String[] field = line.split("\t", -1);
            OWLAxiom axiom = axiom(factory, field);
            if (axiom == null) {
                return "error\t" + changes + ":" + number + ": not a change: " + oneLine(line);
            }
            if (field[0].equals("+")) {
                batch.add(new AddAxiom(ontology, axiom));
            } else if (field[0].equals("-")) {
                batch.add(new RemoveAxiom(ontology, axiom));
            } else {
                return "error\t" + changes + ":" + number + ": a change starts with + or -: " + oneLine(line);
            }
        }
        manager.applyChanges(batch);
        return "ok\t" + ontology.getAxiomCount();
    }

    private static OWLAxiom axiom(OWLDataFactory factory, String[] field) {
        if (field.length == 4 && field[1].equals("class")) {
            return factory.getOWLClassAssertionAxiom(
                factory.getOWLClass(IRI.create(field[2])), factory.getOWLNamedIndividual(IRI.create(field[3])));
        }
        if (field.length == 5 && field[1].equals("object")) {
            return factory.getOWLObjectPropertyAssertionAxiom(
                factory.getOWLObjectProperty(IRI.create(field[2])),
                factory.getOWLNamedIndividual(IRI.create(field[3])),
                factory.getOWLNamedIndividual(IRI.create(field[4])));
        }
        if (field.length == 7 && field[1].equals("data")) {
            String lexical = unescape(field[4]);
            OWLLiteral literal;
            if (!field[5].isEmpty()) {
                literal = factory.getOWLLiteral(lexical, factory.getOWLDatatype(IRI.create(field[5])));
            } else {
                literal = factory.getOWLLiteral(lexical, field[6]);
            }
            return factory.getOWLDataPropertyAssertionAxiom(
                factory.getOWLDataProperty(IRI.create(field[2])), factory.getOWLNamedIndividual(IRI.create(field[3])), literal);
        }
        return null;
    }

    private static String unescape(String text) {
        StringBuilder plain = new StringBuilder(text.length());
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if (c == '\\' && i + 1 < text.length()) {
                char next = text.charAt(++i);
                plain.append(next == 't' ? '\t' : next == 'n' ? '\n' : next == 'r' ? '\r' : next);
            } else {
                plain.append(c);
            }
        }
        return plain.toString();
    }

    private String check() {
        if (ontology == null) {
            return "error\tno ontology loaded";
        }
        Reasoner reasoner = null;
        try {
            reasoner = new Reasoner(new Configuration(), ontology);
            return reasoner.isConsistent() ? "consistent" : "inconsistent";
        } catch (InconsistentOntologyException e) {
            return "inconsistent";
        } finally {
            if (reasoner != null) {
                reasoner.dispose();
            }
        }
    }
}
