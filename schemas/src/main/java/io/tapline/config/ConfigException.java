package io.tapline.config;

import io.tapline.text.ShownText;

/**
 * A configuration value or flag is wrong. The message names the option and what is allowed.
 * <p>
 * The message is kept as {@link ShownText#oneLine} shows it, whoever built it: what it quotes came from an operator
 * (a flag, a {@code TAPLINE_*} variable, a key, value or name of the {@code --config} file, an argument), often through
 * CI or a deployment manifest, and reaches a terminal or a CI log. A line break, an escape sequence, a bidirectional
 * control or an invisible character in it is shown as a code ({@code \n}; ESC as a backslash, {@code u001b}; a
 * right-to-left override as backslash {@code u202e}), so a refused value can neither rewrite the terminal, nor start a line a CI runner reads as a command
 * ({@code ::error::}), nor reorder the message, nor pass for another value. This holds for values a component's own
 * check quotes and for a parser's or client's message quoted in one (Kafka's "Invalid value ..."). The text Tapline
 * writes around them holds none of these characters, and a message already shown so is kept as it is.
 */
public class ConfigException extends RuntimeException {

    private static final long serialVersionUID = 1L;

    public ConfigException(String message) {
        super(ShownText.oneLine(message));
    }

    public ConfigException(String message, Throwable cause) {
        super(ShownText.oneLine(message), cause);
    }
}
