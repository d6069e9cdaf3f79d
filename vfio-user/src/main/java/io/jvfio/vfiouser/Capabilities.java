package io.jvfio.vfiouser;

import java.io.IOException;
import java.io.StringReader;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import com.google.gson.JsonPrimitive;
import com.google.gson.Strictness;
import com.google.gson.stream.JsonReader;
import com.google.gson.stream.JsonToken;

/**
 * The capabilities a VERSION message carries as JSON: how many fds the sender accepts in one message,
 * the largest data transfer it accepts, how many DMA maps it keeps, and the DMA page sizes. Values the
 * peer leaves out take the specification's defaults.
 */
public record Capabilities(int maxMsgFds, long maxDataXferSize, long maxDmaMaps, long pgsizes) {
    public static final int DEFAULT_MAX_MSG_FDS = 1;
    public static final long DEFAULT_MAX_DATA_XFER_SIZE = 1 << 20;
    public static final long DEFAULT_MAX_DMA_MAPS = 65535;
    public static final long DEFAULT_PGSIZES = 4096;
    /** Limits jvfio accepts from a peer: beyond them a VERSION is refused as malformed. */
    public static final int LIMIT_MAX_MSG_FDS = 1024;
    public static final long LIMIT_MAX_DATA_XFER_SIZE = 64L << 20;

    public Capabilities {
        if (maxMsgFds < 0 || maxDataXferSize <= 0 || maxDmaMaps <= 0 || pgsizes <= 0) {
            throw new IllegalArgumentException("capabilities out of range: " + maxMsgFds + ", " + maxDataXferSize + ", "
                    + maxDmaMaps + ", " + pgsizes);
        }
    }

    /** What a peer that says nothing offers. */
    public static Capabilities defaults() {
        return new Capabilities(DEFAULT_MAX_MSG_FDS, DEFAULT_MAX_DATA_XFER_SIZE, DEFAULT_MAX_DMA_MAPS, DEFAULT_PGSIZES);
    }

    /** {@code {"capabilities":{...}}} with every value. */
    public String toJson() {
        JsonObject capabilities = new JsonObject();
        capabilities.addProperty("max_msg_fds", maxMsgFds);
        capabilities.addProperty("max_data_xfer_size", maxDataXferSize);
        capabilities.addProperty("max_dma_maps", maxDmaMaps);
        capabilities.addProperty("pgsizes", pgsizes);
        JsonObject top = new JsonObject();
        top.add("capabilities", capabilities);
        return top.toString();
    }

    /**
     * Parses the JSON of a VERSION message strictly (Gson, no lenient syntax); unknown keys are
     * ignored, known ones must be non-negative integers within jvfio's limits.
     */
    public static Capabilities fromJson(String json) throws ProtocolException {
        JsonElement top;
        try (JsonReader reader = new JsonReader(new StringReader(json))) {
            reader.setStrictness(Strictness.STRICT);
            // JsonParser keeps the reader's strictness and, unlike a Gson instance, builds no type
            // adapter factories: those cost a fresh JVM 60-70 ms, half of what `jvfio info` took.
            top = JsonParser.parseReader(reader);
            if (reader.peek() != JsonToken.END_DOCUMENT) {
                throw new ProtocolException("VERSION JSON has data after its top-level value");
            }
        } catch (ProtocolException e) {
            throw e;
        } catch (IOException | RuntimeException e) {
            throw new ProtocolException("VERSION JSON is malformed: " + e.getMessage());
        }
        if (top == null || !top.isJsonObject()) {
            throw new ProtocolException("VERSION JSON is not an object");
        }
        JsonElement capabilities = top.getAsJsonObject().get("capabilities");
        if (capabilities == null) {
            return defaults();
        }
        if (!capabilities.isJsonObject()) {
            throw new ProtocolException("VERSION JSON: \"capabilities\" is not an object");
        }
        JsonObject caps = capabilities.getAsJsonObject();
        return new Capabilities(
                (int) integer(caps, "max_msg_fds", DEFAULT_MAX_MSG_FDS, 0, LIMIT_MAX_MSG_FDS),
                integer(caps, "max_data_xfer_size", DEFAULT_MAX_DATA_XFER_SIZE, 1, LIMIT_MAX_DATA_XFER_SIZE),
                integer(caps, "max_dma_maps", DEFAULT_MAX_DMA_MAPS, 1, Integer.MAX_VALUE),
                integer(caps, "pgsizes", DEFAULT_PGSIZES, 1, Long.MAX_VALUE));
    }

    private static long integer(JsonObject caps, String name, long fallback, long min, long max)
            throws ProtocolException {
        JsonElement element = caps.get(name);
        if (element == null) {
            return fallback;
        }
        if (!(element instanceof JsonPrimitive primitive) || !primitive.isNumber()) {
            throw new ProtocolException("VERSION JSON: \"" + name + "\" is not a number");
        }
        long value;
        try {
            value = primitive.getAsBigDecimal().longValueExact();
        } catch (ArithmeticException | NumberFormatException e) {
            throw new ProtocolException("VERSION JSON: \"" + name + "\" is not an integer: " + primitive);
        }
        if (value < min || value > max) {
            throw new ProtocolException("VERSION JSON: \"" + name + "\" = " + value + " is outside [" + min + ", " + max + "]");
        }
        return value;
    }
}
