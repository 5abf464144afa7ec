package dev.labelstream.policy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.charset.StandardCharsets;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The promotion record ({@link ModelControl}): both forms, the round trip, each refusal with its reason. */
class ModelControlTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @Test
    void parsesABundleByPathAndVersion() throws Exception {
        ModelControl c = parse("{\"model.dir\": \"/models/spam-minilm-l6-1.2.0\", \"version\": \"1.2.0\"}");
        assertThat(c.dir()).isEqualTo("/models/spam-minilm-l6-1.2.0");
        assertThat(c.version()).isEqualTo("1.2.0");
        assertThat(c.shadow()).isFalse();
    }

    @Test
    void parsesTheShadowForm() throws Exception {
        ModelControl c = parse("  {\"promote\" : \"shadow\"}\n");
        assertThat(c).isEqualTo(new ModelControl(null, null));
        assertThat(c.shadow()).isTrue();
        assertThat(c.dir()).isNull();
        assertThat(c.version()).isNull();
    }

    @Test
    void theKeyIsThePolicyIdAndModel() {
        assertThat(ModelControl.key("community")).isEqualTo("community/model");
        assertThat(ModelControl.key("a.b-c_1")).isEqualTo("a.b-c_1" + ModelControl.KEY_SUFFIX);
        assertThat(ModelControl.KEY_SUFFIX).isEqualTo("/model");
        // Never the policy id itself: the policy gate ignores the key, so a promotion is never read as a document.
        assertThat(ModelControl.key("community")).isNotEqualTo("community");
    }

    @Test
    void theShadowFormWritesExactlyTheDocumentedRecord() throws Exception {
        byte[] json = new ModelControl(null, null).toJson();
        assertThat(JSON.readTree(json)).isEqualTo(JSON.readTree("{\"promote\": \"shadow\"}"));
        assertThat(ModelControl.parse(json)).isEqualTo(new ModelControl(null, null));
    }

    @Test
    void theBundleFormWritesItsTwoFields() throws Exception {
        JsonNode n = JSON.readTree(new ModelControl("/models/x", "2").toJson());
        assertThat(n).isEqualTo(JSON.readTree("{\"model.dir\": \"/models/x\", \"version\": \"2\"}"));
    }

    /** Random absolute paths and versions, with characters JSON must escape: toJson then parse is the identity. */
    @Test
    void roundTripsAnyAbsolutePathAndVersion() throws Exception {
        Random random = new Random(20261201L);
        String alphabet = "abcXYZ019 ._-/\\\"'{}:,@\u00e9\u4e2d\t\n\u0001";
        for (int i = 0; i < 2000; i++) {
            String dir = "/" + text(random, alphabet, random.nextInt(40));
            String version = text(random, alphabet, 1 + random.nextInt(12));
            if (version.isBlank()) {
                version = "v" + version;
            }
            ModelControl c = new ModelControl(dir, version);
            byte[] json = c.toJson();
            assertThat(ModelControl.parse(json)).as("case %d: %s", i, new String(json, StandardCharsets.UTF_8))
                    .isEqualTo(c);
            assertThat(ModelControl.parse(json).shadow()).isFalse();
        }
    }

    @Test
    void aTombstonePromotesNothing() {
        assertRejected(null, "a tombstone promotes nothing");
    }

    @ParameterizedTest
    @ValueSource(strings = {
        "not json",
        "{\"model.dir\": \"/m\", ",
        "{'model.dir': '/m', 'version': '1'}",
    })
    void notJsonIsRefused(String value) {
        assertRejected(value, "a promotion must be a JSON object: ");
    }

    @ParameterizedTest
    @ValueSource(strings = {
        "[\"/models/x\", \"1\"]",
        "\"/models/x\"",
        "42",
        "null",
        "true",
    })
    void notAnObjectIsRefusedWithAnExample(String value) {
        Throwable t = assertRejected(value, "a promotion must be a JSON object, like");
        assertThat(t.getMessage()).contains("{\"model.dir\": \"/models/x\", \"version\": \"1.2.0\"}")
                .contains("{\"promote\": \"shadow\"}");
    }

    @Test
    void anEmptyValueIsRefused() {
        assertThatThrownBy(() -> ModelControl.parse(new byte[0])).isInstanceOf(PolicyRejectedException.class)
                .hasMessageStartingWith("a promotion must be a JSON object");
    }

    @ParameterizedTest
    @ValueSource(strings = {
        "models/spam-1.2.0",
        "./models/x",
        "../models/x",
        "~/models/x",
        "C:\\models\\x",
    })
    void aRelativePathIsRefusedNamingIt(String dir) {
        Throwable t = assertRejected("{\"model.dir\": " + JSON.getNodeFactory().textNode(dir)
                + ", \"version\": \"1\"}", "$.model.dir: '");
        assertThat(t.getMessage()).contains("'" + dir + "' is relative")
                .contains("absolute path");
    }

    @ParameterizedTest
    @ValueSource(strings = {
        "{\"model.dir\": \"/models/x\"}",
        "{\"model.dir\": \"/models/x\", \"version\": \"\"}",
        "{\"model.dir\": \"/models/x\", \"version\": \"  \"}",
        "{\"model.dir\": \"/models/x\", \"version\": null}",
        "{\"model.dir\": \"/models/x\", \"version\": [\"1\"]}",
        "{\"model.dir\": \"/models/x\", \"Version\": \"1\"}",
    })
    void aMissingVersionIsRefused(String value) {
        Throwable t = assertRejected(value, "a promotion names \"model.dir\"");
        assertThat(t.getMessage()).contains("\"version\" (the bundle's own)").contains("{\"promote\": \"shadow\"}");
    }

    @ParameterizedTest
    @ValueSource(strings = {
        "{\"version\": \"1\"}",
        "{\"model.dir\": \"\", \"version\": \"1\"}",
        "{\"model_dir\": \"/models/x\", \"version\": \"1\"}",
        "{\"model.dir\": {\"path\": \"/models/x\"}, \"version\": \"1\"}",
        "{}",
    })
    void aMissingDirIsRefused(String value) {
        assertRejected(value, "a promotion names \"model.dir\" (an absolute path every TaskManager sees)");
    }

    @ParameterizedTest
    @ValueSource(strings = {
        "{\"promote\": \"other\"}",
        "{\"promote\": \"Shadow\"}",
        "{\"promote\": \"\"}",
        "{\"promote\": null}",
        "{\"promote\": {\"shadow\": true}}",
        "{\"promote\": \"shadow\", \"version\": \"2\"}",
        "{\"promote\": \"shadow\", \"model.dir\": \"/models/x\", \"version\": \"2\"}",
        "{\"model.dir\": \"/models/x\", \"version\": \"2\", \"promote\": \"shadow\"}",
    })
    void onlyTheBareShadowPromotionIsKnown(String value) {
        assertRejected(value, "$.promote: only {\"promote\": \"shadow\"} is known");
    }

    /** A refusal names no policy id or version: the batcher reports it as the model's, under its own id. */
    @Test
    void refusalsCarryNoPolicyIdOrVersion() {
        for (String v : new String[] {"x", "[]", "{}", "{\"promote\": 1}", "{\"model.dir\": \"a\", \"version\": \"1\"}"}) {
            assertThatThrownBy(() -> parse(v)).isInstanceOfSatisfying(PolicyRejectedException.class, e -> {
                assertThat(e.policyId()).as(v).isNull();
                assertThat(e.version()).as(v).isEqualTo(-1);
            });
        }
    }

    private static ModelControl parse(String json) throws PolicyRejectedException {
        return ModelControl.parse(json.getBytes(StandardCharsets.UTF_8));
    }

    private static Throwable assertRejected(String value, String messageStart) {
        byte[] bytes = value == null ? null : value.getBytes(StandardCharsets.UTF_8);
        Throwable[] caught = new Throwable[1];
        assertThatThrownBy(() -> ModelControl.parse(bytes)).as("%s", value)
                .isInstanceOf(PolicyRejectedException.class).hasMessageStartingWith(messageStart)
                .satisfies(t -> caught[0] = t);
        return caught[0];
    }

    private static String text(Random random, String alphabet, int length) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < length; i++) {
            sb.append(alphabet.charAt(random.nextInt(alphabet.length())));
        }
        return sb.toString();
    }
}
