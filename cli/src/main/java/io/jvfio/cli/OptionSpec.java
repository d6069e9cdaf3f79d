package io.jvfio.cli;

import java.util.List;

/**
 * One option of a command: its names ({@code -o}, {@code --output}), the label of its value ({@code FILE};
 * none for a flag), its help text, and whether it must be given, may be given more than once, or is left
 * out of the help.
 */
record OptionSpec(
        List<String> names, String label, String description, boolean required, boolean repeatable, boolean hidden) {
    /** An option without a value: {@code -h}. */
    static OptionSpec flag(String description, String... names) {
        return new OptionSpec(List.of(names), null, description, false, false, false);
    }

    /** An option with a value: {@code --socket PATH}, at most once and not required until said otherwise. */
    static OptionSpec value(String label, String description, String... names) {
        return new OptionSpec(List.of(names), label, description, false, false, false);
    }

    OptionSpec mustBeGiven() {
        return new OptionSpec(names, label, description, true, repeatable, hidden);
    }

    OptionSpec mayRepeat() {
        return new OptionSpec(names, label, description, required, true, hidden);
    }

    OptionSpec hiddenFromHelp() {
        return new OptionSpec(names, label, description, required, repeatable, true);
    }

    boolean takesValue() {
        return label != null;
    }

    /** The name the option is looked up by: its last name, the long one where it has both. */
    String key() {
        return names.getLast();
    }

    /** How the usage line and error messages show it: {@code --guest ELF|NAME}. */
    String synopsis() {
        return takesValue() ? key() + " " + label : key();
    }
}
