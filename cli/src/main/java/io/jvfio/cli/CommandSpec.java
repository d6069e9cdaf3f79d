package io.jvfio.cli;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * What a command accepts and says about itself: its options and positional parameters, and the text of
 * its help. Declared as plain data rather than annotations, so that parsing a command line needs no
 * reflection and loads no class of any other command: a start-up cost that every invocation paid.
 *
 * @param name        the command's name ({@code run}); {@code jvfio} for the top level
 * @param summary     one line for the list of commands in {@code jvfio --help}
 * @param description the paragraph under the usage line
 * @param options     the command's own options, in the order the help lists them
 * @param parameters  its positional parameters, in order
 * @param footer      lines after the options (a heading, then indented lines)
 */
record CommandSpec(
        String name,
        String summary,
        String description,
        List<OptionSpec> options,
        List<Parameter> parameters,
        List<String> footer) {
    static final String VERSION = "jvfio 0.1.0-SNAPSHOT";
    private static final int WIDTH = 80;

    /** Options every command has: {@code --trace} may come before or after the command's name. */
    static final OptionSpec TRACE = OptionSpec.value(
            "FILE",
            "Write a JFR recording of jvfio's events (io.jvfio.*: "
                    + "IRQ states, injections, EOIs, unmasks, fast-path switches, trapped accesses) to FILE when the command "
                    + "ends.",
            "--trace");

    static final OptionSpec HELP = OptionSpec.flag("Show this help and exit.", "-h", "--help");
    static final OptionSpec VERSION_OPTION = OptionSpec.flag("Print the version and exit.", "-V", "--version");

    /** A positional parameter: {@code MODEL}; the optional ones come last. */
    record Parameter(String label, String description, boolean required) {
        Parameter(String label, String description) {
            this(label, description, true);
        }
    }

    CommandSpec {
        options = List.copyOf(options);
        parameters = List.copyOf(parameters);
        footer = List.copyOf(footer);
    }

    /** A command with options and nothing else. */
    static CommandSpec of(String name, String summary, String description, OptionSpec... options) {
        return new CommandSpec(name, summary, description, List.of(options), List.of(), List.of());
    }

    CommandSpec withParameters(Parameter... more) {
        return new CommandSpec(name, summary, description, options, List.of(more), footer);
    }

    CommandSpec withFooter(String... lines) {
        return new CommandSpec(name, summary, description, options, parameters, List.of(lines));
    }

    /** Its options and the ones every command has. */
    List<OptionSpec> allOptions() {
        List<OptionSpec> all = new ArrayList<>(options);
        all.addAll(List.of(TRACE, HELP, VERSION_OPTION));
        return all;
    }

    Optional<OptionSpec> option(String name) {
        return allOptions().stream().filter(o -> o.names().contains(name)).findFirst();
    }

    /** The help: usage line, description, parameters, options and the footer. */
    String help(String commandPath) {
        StringBuilder text = new StringBuilder();
        List<String> synopsis = new ArrayList<>();
        for (OptionSpec option : allOptions()) {
            if (option.hidden()) {
                continue;
            }
            String shown = option.names().getFirst() + (option.takesValue() ? " " + option.label() : "");
            synopsis.add((option.required() ? shown : "[" + shown + "]") + (option.repeatable() ? "..." : ""));
        }
        parameters.forEach(p -> synopsis.add(p.required() ? p.label() : "[" + p.label() + "]"));
        appendWrapped(text, "Usage: " + commandPath + " ", synopsis);
        appendWrapped(text, "", List.of(description.split(" ")));
        List<String[]> rows = new ArrayList<>();
        for (Parameter parameter : parameters) {
            rows.add(new String[] {parameter.label(), parameter.description()});
        }
        for (OptionSpec option : allOptions()) {
            if (!option.hidden()) {
                rows.add(new String[] {
                    String.join(", ", option.names()) + (option.takesValue() ? " " + option.label() : ""),
                    option.description()
                });
            }
        }
        text.append(System.lineSeparator());
        appendTable(text, rows);
        if (!footer.isEmpty()) {
            text.append(System.lineSeparator());
            footer.forEach(line -> text.append(line).append(System.lineSeparator()));
        }
        return text.toString();
    }

    /** Two columns: the first as wide as its widest entry (up to a third of the width), the second wrapped. */
    static void appendTable(StringBuilder text, List<String[]> rows) {
        int first = Math.min(
                WIDTH / 3, rows.stream().mapToInt(r -> r[0].length()).max().orElse(0));
        int indent = 2 + first + 2;
        for (String[] row : rows) {
            String head = "  " + row[0];
            if (row[0].length() > first) {
                text.append(head).append(System.lineSeparator());
                head = "";
            }
            List<String> lines = wrap(List.of(row[1].split(" ")), WIDTH - indent);
            for (int i = 0; i < lines.size(); i++) {
                String left = i == 0 ? head : "";
                text.append(left)
                        .append(" ".repeat(indent - left.length()))
                        .append(lines.get(i))
                        .append(System.lineSeparator());
            }
        }
    }

    /** {@code words} after {@code lead}, wrapped with the following lines indented as far as the lead. */
    private static void appendWrapped(StringBuilder text, String lead, List<String> words) {
        List<String> lines = wrap(words, WIDTH - lead.length());
        for (int i = 0; i < lines.size(); i++) {
            text.append(i == 0 ? lead : " ".repeat(lead.length()))
                    .append(lines.get(i))
                    .append(System.lineSeparator());
        }
    }

    /** {@code words} on lines of at most {@code width} characters (a longer word gets its own line). */
    static List<String> wrap(List<String> words, int width) {
        List<String> lines = new ArrayList<>();
        StringBuilder line = new StringBuilder();
        for (String word : words) {
            if (!line.isEmpty() && line.length() + 1 + word.length() > width) {
                lines.add(line.toString());
                line.setLength(0);
            }
            line.append(line.isEmpty() ? "" : " ").append(word);
        }
        lines.add(line.toString());
        return lines;
    }
}
