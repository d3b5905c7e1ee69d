package io.tapline.redaction;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.databind.SerializerProvider;
import com.fasterxml.jackson.databind.node.NumericNode;

import java.io.IOException;
import java.math.BigDecimal;
import java.math.BigInteger;

/**
 * A JSON number that writes itself as the body wrote it. As a value it is the node it is read as everywhere else in
 * the redaction (a double for a number with a fraction or an exponent, as Jackson reads one by default), so the card
 * check and its token see what they always saw; written out ({@link #serialize}, and so {@link #toString}) it is its
 * text: {@code 1e999}, {@code 1.50} and {@code 0.1000000000000000055511151231257827} stay those numbers. Immutable.
 */
final class WrittenNumber extends NumericNode {

    private static final long serialVersionUID = 1L;

    private final String text;
    private final NumericNode read;

    /**
     * @param text the number as written, valid JSON
     * @param read the node it reads as
     */
    WrittenNumber(String text, NumericNode read) {
        this.text = text;
        this.read = read;
    }

    /** The node this number reads as: what it is tokenised and checked for a card number as. */
    NumericNode read() {
        return read;
    }

    @Override
    public void serialize(JsonGenerator g, SerializerProvider provider) throws IOException {
        g.writeNumber(text);
    }

    @Override
    public JsonToken asToken() {
        return read.asToken();
    }

    @Override
    public JsonParser.NumberType numberType() {
        return read.numberType();
    }

    @Override
    public boolean isIntegralNumber() {
        return read.isIntegralNumber();
    }

    @Override
    public boolean isFloatingPointNumber() {
        return read.isFloatingPointNumber();
    }

    @Override
    public boolean isInt() {
        return read.isInt();
    }

    @Override
    public boolean isLong() {
        return read.isLong();
    }

    @Override
    public boolean isDouble() {
        return read.isDouble();
    }

    @Override
    public boolean isBigInteger() {
        return read.isBigInteger();
    }

    @Override
    public boolean isBigDecimal() {
        return read.isBigDecimal();
    }

    @Override
    public boolean isNaN() {
        return read.isNaN();
    }

    @Override
    public Number numberValue() {
        return read.numberValue();
    }

    @Override
    public short shortValue() {
        return read.shortValue();
    }

    @Override
    public int intValue() {
        return read.intValue();
    }

    @Override
    public long longValue() {
        return read.longValue();
    }

    @Override
    public float floatValue() {
        return read.floatValue();
    }

    @Override
    public double doubleValue() {
        return read.doubleValue();
    }

    @Override
    public BigDecimal decimalValue() {
        return read.decimalValue();
    }

    @Override
    public BigInteger bigIntegerValue() {
        return read.bigIntegerValue();
    }

    @Override
    public boolean canConvertToInt() {
        return read.canConvertToInt();
    }

    @Override
    public boolean canConvertToLong() {
        return read.canConvertToLong();
    }

    @Override
    public boolean canConvertToExactIntegral() {
        return read.canConvertToExactIntegral();
    }

    @Override
    public String asText() {
        return read.asText();
    }

    @Override
    public boolean asBoolean(boolean defaultValue) {
        return read.asBoolean(defaultValue);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof WrittenNumber w && text.equals(w.text);
    }

    @Override
    public int hashCode() {
        return text.hashCode();
    }
}
