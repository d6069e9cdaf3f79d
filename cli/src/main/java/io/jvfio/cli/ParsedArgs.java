package io.jvfio.cli;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Function;

/**
 * A command line parsed against a {@link CommandSpec}: the values of each option given (by its
 * {@linkplain OptionSpec#key() key}) and the positional parameters. Values are strings until a command
 * converts them; a converter's {@link IllegalArgumentException} becomes a usage error naming the option.
 */
final class ParsedArgs {
    private final Map<String, List<String>> options;
    private final List<String> parameters;

    private ParsedArgs(Map<String, List<String>> options, List<String> parameters) {
        this.options = options;
        this.parameters = parameters;
    }

    /**
     * Parses {@code args}: {@code --name VALUE}, {@code --name=VALUE}, flags, and positional parameters
     * in any order; {@code --} ends the options. A separate VALUE that is one of the command's options is
     * an error (as picocli has it; {@code --name=VALUE} takes it). Missing required options and parameters
     * are errors unless help or the version was asked for.
     */
    static ParsedArgs parse(CommandSpec spec, List<String> args) {
        Map<String, List<String>> options = new LinkedHashMap<>();
        List<String> parameters = new ArrayList<>();
        boolean optionsEnded = false;
        for (int i = 0; i < args.size(); i++) {
            String arg = args.get(i);
            if (optionsEnded || !arg.startsWith("-") || arg.equals("-")) {
                if (parameters.size() == spec.parameters().size()) {
                    throw new UsageException("Unmatched argument: '" + arg + "'");
                }
                parameters.add(arg);
                continue;
            }
            if (arg.equals("--")) {
                optionsEnded = true;
                continue;
            }
            int equals = arg.startsWith("--") ? arg.indexOf('=') : -1;
            String name = equals < 0 ? arg : arg.substring(0, equals);
            OptionSpec option =
                    spec.option(name).orElseThrow(() -> new UsageException("Unknown option: '" + name + "'"));
            List<String> values = options.computeIfAbsent(option.key(), k -> new ArrayList<>());
            if (!values.isEmpty() && !option.repeatable()) {
                throw new UsageException("option '" + option.key() + "' should be specified only once");
            }
            if (!option.takesValue()) {
                if (equals >= 0) {
                    throw new UsageException("option '" + name + "' takes no value");
                }
                values.add("");
            } else if (equals >= 0) {
                values.add(arg.substring(equals + 1));
            } else if (i + 1 < args.size()) {
                String next = args.get(++i);
                if (isOptionOf(spec, next)) {
                    // "--guest --ram 64": the value was forgotten; taking "--ram" for it would blame "64".
                    throw new UsageException("Expected parameter for option '" + name + "' but found '" + next + "'");
                }
                values.add(next);
            } else {
                throw new UsageException(
                        "Missing required parameter for option '" + name + "' (" + option.label() + ")");
            }
        }
        ParsedArgs parsed = new ParsedArgs(options, parameters);
        if (!parsed.has(CommandSpec.HELP.key()) && !parsed.has(CommandSpec.VERSION_OPTION.key())) {
            for (OptionSpec option : spec.options()) {
                if (option.required() && !parsed.has(option.key())) {
                    throw new UsageException("Missing required option: '" + option.synopsis() + "'");
                }
            }
            if (parameters.size() < spec.parameters().size()
                    && spec.parameters().get(parameters.size()).required()) {
                throw new UsageException("Missing required parameter: '"
                        + spec.parameters().get(parameters.size()).label() + "'");
            }
        }
        return parsed;
    }

    /** Whether {@code arg} is one of the command's options ({@code --name} or {@code --name=VALUE}). */
    private static boolean isOptionOf(CommandSpec spec, String arg) {
        if (!arg.startsWith("-")) {
            return false;
        }
        int equals = arg.startsWith("--") ? arg.indexOf('=') : -1;
        return spec.option(equals < 0 ? arg : arg.substring(0, equals)).isPresent();
    }

    boolean has(String option) {
        return options.containsKey(option);
    }

    Optional<String> value(String option) {
        List<String> values = options.getOrDefault(option, List.of());
        return values.isEmpty() ? Optional.empty() : Optional.of(values.getLast());
    }

    /** The value of an option that the parse made sure was given. */
    String required(String option) {
        return value(option).orElseThrow(() -> new IllegalStateException(option + " is not a required option"));
    }

    <T> Optional<T> value(String option, Function<String, T> converter) {
        return value(option).map(text -> convert(option, text, converter));
    }

    <T> List<T> values(String option, Function<String, T> converter) {
        return options.getOrDefault(option, List.of()).stream()
                .map(text -> convert(option, text, converter))
                .toList();
    }

    String parameter(int index) {
        return parameters.get(index);
    }

    Optional<String> optionalParameter(int index) {
        return index < parameters.size() ? Optional.of(parameters.get(index)) : Optional.empty();
    }

    private static <T> T convert(String option, String text, Function<String, T> converter) {
        try {
            return converter.apply(text);
        } catch (IllegalArgumentException e) {
            throw new UsageException("Invalid value for option '" + option + "': "
                    + Jvfio.oneLine(e.getMessage() == null ? "'" + text + "'" : e.getMessage()));
        }
    }
}
