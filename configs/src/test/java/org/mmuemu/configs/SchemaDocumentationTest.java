package org.mmuemu.configs;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.mmuemu.core.config.ConfigSection;
import org.mmuemu.core.isa.IsaRegistry;
import org.mmuemu.kernel.config.KernelConfig;

/**
 * The machine schema doubles as the reference documentation, so it must describe every key, close
 * every object, and agree with the defaults the code applies.
 */
final class SchemaDocumentationTest {
  private static final JsonNode MACHINE = SchemaCheck.machine().schemaNode();

  @Test
  void everyKeyOfBothSchemas_hasADescription() {
    List<String> undocumented = new ArrayList<>();
    walk(MACHINE, "", undocumented, new ArrayList<>());
    walk(SchemaCheck.result().schemaNode(), "", undocumented, new ArrayList<>());

    assertThat(undocumented).isEmpty();
  }

  @Test
  void everyObjectOfTheMachineSchema_rejectsUnknownKeys() {
    List<String> open = new ArrayList<>();
    walk(MACHINE, "", new ArrayList<>(), open);

    assertThat(open)
        .as("objects whose additionalProperties is not false, other than string maps")
        .containsExactly("/properties/provenance");
  }

  private static void walk(
      JsonNode schema, String at, List<String> undocumented, List<String> open) {
    JsonNode properties = schema.get("properties");
    if (properties != null) {
      properties
          .properties()
          .forEach(
              e -> {
                if (!e.getValue().has("description")) {
                  undocumented.add(at + "/properties/" + e.getKey());
                }
              });
    }
    if ("object".equals(schema.path("type").asText())
        && !schema.path("additionalProperties").isBoolean()) {
      open.add(at);
    }
    schema
        .properties()
        .forEach(
            e -> {
              if (e.getValue().isObject()) {
                walk(e.getValue(), at + "/" + e.getKey(), undocumented, open);
              }
            });
  }

  @Test
  void kernelCostsInTheSchema_matchKernelConfigDefaults() {
    Map<String, Long> documented = new LinkedHashMap<>();
    MACHINE
        .at("/properties/kernel/properties/costs/properties")
        .properties()
        .forEach(e -> documented.put(e.getKey(), e.getValue().get("default").asLong()));

    assertThat(documented).isEqualTo(KernelConfig.COST_DEFAULTS);
    assertThat(MACHINE.at("/properties/kernel/properties/variants/properties").size())
        .isEqualTo(KernelConfig.VARIANTS.size());
    Map<String, Object> tunables = new LinkedHashMap<>();
    MACHINE
        .at("/properties/kernel/properties/tunables/properties")
        .properties()
        .forEach(
            e -> {
              JsonNode value = e.getValue().get("default");
              if (value.isObject()) {
                Map<String, Object> nested = new LinkedHashMap<>(); // mthp: a setting per size
                value.properties().forEach(n -> nested.put(n.getKey(), n.getValue().asText()));
                tunables.put(e.getKey(), nested);
              } else {
                Object expected =
                    value.isNumber()
                        ? (Object) value.asLong()
                        : value.isBoolean() ? (Object) value.asBoolean() : value.asText();
                tunables.put(e.getKey(), expected);
              }
            });
    assertThat(tunables).isEqualTo(KernelConfig.TUNABLE_DEFAULTS);
  }

  @Test
  void isaSectionsInTheSchema_areAcceptedByTheirProviders() {
    IsaRegistry registry = IsaRegistry.load();
    for (String isa : MachineChecks.SCHEMA_ISA_SECTIONS) {
      Map<String, Object> section = defaults(MACHINE.at("/properties/" + isa));

      assertThat(registry.get(isa).validate(new ConfigSection("/" + isa, section)))
          .as(isa)
          .isEmpty();
      assertThat(section).as(isa).isNotEmpty();
    }
  }

  /** Builds an object holding every documented key at its documented default. */
  private static Map<String, Object> defaults(JsonNode objectSchema) {
    Map<String, Object> out = new LinkedHashMap<>();
    objectSchema
        .get("properties")
        .properties()
        .forEach(
            e -> {
              JsonNode property = e.getValue();
              if (property.has("properties")) {
                out.put(e.getKey(), defaults(property));
              } else {
                out.put(e.getKey(), JsonSupport.toPlain(property.get("default")));
              }
            });
    return out;
  }

  @Test
  void loaderDefaults_matchTheSchemaDefaults() {
    assertThat(MACHINE.at("/properties/accessCycles/default").asInt())
        .isEqualTo(MachineBinder.DEFAULT_ACCESS_CYCLES);
    assertThat(MACHINE.at("/properties/quantumCycles/default").asLong())
        .isEqualTo(MachineBinder.DEFAULT_QUANTUM_CYCLES);
    assertThat(MACHINE.at("/properties/walker/properties/walkCacheHitCycles/default").asInt())
        .isEqualTo(MachineBinder.DEFAULT_WALK_CACHE_HIT_CYCLES);
    assertThat(
            JsonSupport.toPlain(
                MACHINE.at("/properties/walker/properties/memoryRefCycles/default")))
        .isEqualTo(MachineBinder.DEFAULT_MEMORY_REF_CYCLES);
    assertThat(MACHINE.at("/$defs/tlbLevel/properties/replacement/default").asText())
        .isEqualTo(MachineBinder.DEFAULT_REPLACEMENT);
  }
}
