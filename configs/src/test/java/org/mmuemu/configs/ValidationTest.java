package org.mmuemu.configs;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.mmuemu.configs.TestConfigs.LOADER;
import static org.mmuemu.configs.TestConfigs.problems;
import static org.mmuemu.configs.TestConfigs.write;

import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Every bad config is rejected with one line per problem naming the JSON pointer and the
 * expectation, and all problems come at once so a user fixes a config in one pass.
 */
final class ValidationTest {
  @TempDir Path dir;

  private Path n1Child(String members) {
    return write(dir, "m.json", "{'name': 'm', 'extends': 'arm64-neoverse-n1', " + members + "}");
  }

  private static final String ONE_LEVEL =
      "'tlb': {'levels': [{'name': 'u', 'serves': 'unified', 'entries': 8, "
          + "'ways': 8, 'pageSizes': ['4KiB'], 'hitCycles': 0}]}";

  @Test
  void wrongType_namesPointerValueAndType() {
    assertThat(problems(n1Child("'cores': 'eight'")))
        .containsExactly("/cores: \"eight\" (expected: an integer)");
  }

  @Test
  void unknownTopLevelKey_listsTheKnownKeys() {
    assertThat(problems(n1Child("'coers': 8")))
        .containsExactly(
            "/coers: unknown key (expected one of: "
                + "accessCycles, arm64, cores, description, extends, frequencyGHz, isa, kernel, memoryBytes, name, "
                + "numaNodes, provenance, quantumCycles, tlb, walker, x86)");
  }

  @Test
  void unknownKeyInATlbLevel_pointsIntoTheLevel() {
    Path file =
        n1Child(
            "'tlb': {'levels': [{'name': 'u', 'serves': 'unified', 'entries': 8, 'ways': 8, "
                + "'pageSizes': ['4KiB'], 'hitCycles': 0, 'assoc': 8}]}");

    assertThat(problems(file))
        .containsExactly(
            "/tlb/levels/0/assoc: unknown key (expected one of: entries, "
                + "hitCycles, name, pageSizes, replacement, serves, ways)");
  }

  @Test
  void waysNotDividingEntries_namesTheEntries() {
    assertThat(problems(Path.of("machines/arm64-neoverse-n1.json"), "/tlb/levels/2/ways=7"))
        .containsExactly("/tlb/levels/2/ways: 7 (expected: divides entries 1280)");
  }

  @Test
  void unknownIsa_listsTheRegisteredOnes() {
    assertThat(problems(n1Child("'isa': 'sparc'")))
        .containsExactly("/isa: \"sparc\" (expected: one of arm64, x86)");
  }

  @Test
  void syntaxError_namesFileLineAndColumn() {
    Path file = write(dir, "arm64.json", "{\n  'name': 'x',\n  'cores' 8\n}\n");

    assertThat(problems(file))
        .containsExactly(
            file
                + ": line 3, column 11: Unexpected character ('8' (code 56)): "
                + "was expecting a colon to separate field name and value");
  }

  @Test
  void emptyFile_isASyntaxError() {
    Path file = write(dir, "empty.json", "  \n");

    assertThat(problems(file))
        .containsExactly(file + ": line 1, column 1: empty document (expected: a JSON object)");
  }

  @Test
  void byteOrderMark_isIgnored() {
    Path file = write(dir, "bom.json", "\uFEFF{'name': 'bom', 'extends': 'x86-skylake'}");

    assertThat(problems(file)).isEmpty();
  }

  @Test
  void duplicateKey_isASyntaxError() {
    Path file = write(dir, "dup.json", "{'name': 'a',\n 'name': 'b'}");

    assertThat(problems(file))
        .singleElement()
        .asString()
        .startsWith(file + ": line 2, column ")
        .contains("Duplicate field 'name'");
  }

  @Test
  void threeMistakes_giveThreeLinesAtOnce() {
    Path file =
        n1Child(
            "'cores': 'eight', 'foo': 1, 'walker': {'memoryRefCycles': [20], 'walkCacheHitCycles': -1}");

    List<String> lines = problems(file);

    assertThat(lines)
        .containsExactly(
            "/cores: \"eight\" (expected: an integer)",
            "/foo: unknown key (expected one of: accessCycles, arm64, cores, description, extends, frequencyGHz, isa, "
                + "kernel, memoryBytes, name, numaNodes, provenance, quantumCycles, tlb, walker, x86)",
            "/walker/walkCacheHitCycles: -1 (expected: at least 0)");
    assertThatThrownBy(() -> LOADER.load(file.toString()))
        .isInstanceOfSatisfying(
            ConfigException.class,
            e -> {
              assertThat(e.lines()).isEqualTo(lines);
              assertThat(e.getMessage()).isEqualTo(String.join("\n", lines));
            });
  }

  @Test
  void provenancePointerToAMissingValue_isReported() {
    Path file =
        n1Child("'provenance': {'/tlb/levels/7/entries': 'D somewhere', '/cores': 'from a blog'}");

    assertThat(problems(file))
        .containsExactly(
            "/provenance/~1cores: \"from a blog\" (expected: a string starting with a provenance tag D, M, X, E or R)",
            "/provenance/~1tlb~1levels~17~1entries: no such value (expected: a JSON pointer to a value in this config)");
  }

  @Test
  void isaSectionOfAnotherIsa_isReported() {
    assertThat(problems(n1Child("'x86': {'pcid': true}")))
        .containsExactly(
            "/x86: an object (expected: no x86 section on an arm64 machine; only /arm64 configures its ISA)");
  }

  @Test
  void isaSection_isCheckedByItsProviderWithoutDuplicates() {
    assertThat(problems(n1Child("'arm64': {'vaBits': 39, 'costs': {'tlbi': 1}}")))
        .containsExactly(
            "/arm64/costs/tlbi: unknown key (expected one of: broadcastCompletionBaseCycles, broadcastCompletionPerCoreCycles, "
                + "dsbIshCycles, dsbIshstCycles, dsbNshCycles, dvmIntervalCycles, isbCycles, tlbiAllCycles, tlbiCycles)",
            "/arm64/vaBits: 39 (expected: 48 (4 KiB granule, 4 levels))");
  }

  @Test
  void kernelSection_isCheckedByKernelConfig() {
    assertThat(
            problems(n1Child("'kernel': {'costs': {'pteWriteCycles': 'cheap', 'tlbCycles': 1}}")))
        .containsExactly(
            "/kernel/costs/pteWriteCycles: \"cheap\" (expected: an integer)",
            "/kernel/costs/tlbCycles: unknown key (expected one of: contextSwitchCycles, "
                + "faultEntryCycles, fileReadCycles, lockCycles, mmuNotifierCycles, pageAllocCycles, pageCopyCycles, pageFreeCycles, pageZeroCycles, pcpuAllocCycles, pteWriteCycles, "
                + "rcuGracePeriodCycles, tableAllocCycles, tlbFlushCallColdCycles, tlbFlushCallCycles, tlbSinglePageFlushCeilingPages, vmaLookupCycles, "
                + "vmapAreaObjectCycles, vmapBlockCycles, vmapNodeVisitCycles, writebackPageCycles)");
  }

  @Test
  void faultAroundBytesAboveOnePteTable_isRejectedWithItsPointer() {
    assertThat(problems(n1Child("'kernel': {'tunables': {'faultAroundBytes': '4MiB'}}")))
        .containsExactly(
            "/kernel/tunables/faultAroundBytes: 4194304 (expected: at most 2097152 (512 pages, one"
                + " PTE table))");
    assertThat(problems(n1Child("'kernel': {'tunables': {'faultAroundBytes': '2MiB'}}"))).isEmpty();
  }

  @Test
  void tlbLevels_needUniqueNamesValidPageSizesAndBothKindsOfAccess() {
    Path file =
        n1Child(
            "'tlb': {'levels': ["
                + "{'name': 'd', 'serves': 'data', 'entries': 8, 'ways': 8, 'pageSizes': [3000, '4KiB', 4096, '4XB'], "
                + "'hitCycles': 0},"
                + "{'name': 'd', 'serves': 'data', 'entries': 8, 'ways': 8, 'pageSizes': ['2MiB'], 'hitCycles': 0}]}");

    assertThat(problems(file))
        .containsExactly(
            "/tlb/levels: no level serves instruction fetches (expected: at least one level with \"serves\": "
                + "\"instruction\" or \"unified\")",
            "/tlb/levels/0/pageSizes/0: 3000 (expected: a power of two, at least 4KiB)",
            "/tlb/levels/0/pageSizes/2: 4096 (expected: each page size once (4KiB is listed twice))",
            "/tlb/levels/0/pageSizes/3: \"4XB\" (expected: a size such as 4096, \"64KiB\" or \"2MiB\")",
            "/tlb/levels/1/name: \"d\" (expected: a name no other level uses (level 0 is also \"d\"))");
  }

  @Test
  void walker_isCheckedAgainstTheIsaLevels() {
    Path file =
        n1Child(
            ONE_LEVEL
                + ", 'walker': {'memoryRefCycles': [1, 2, 3, 4, 5], "
                + "'walkCaches': [{'level': 3, 'entries': 4}, {'level': 1, 'entries': 4}, {'level': 1, 'entries': 8}]}");

    assertThat(problems(file))
        .containsExactly(
            "/walker/memoryRefCycles: an array of 5 items (expected: at most 4 items, one per arm64 table level)",
            "/walker/walkCaches/0/level: 3 (expected: a table level from 0 to 2; level 3 is the arm64 leaf level)",
            "/walker/walkCaches/2/level: 1 (expected: each level at most once (walk cache 1 is also level 1))");
  }

  @Test
  void missingRequiredKeysAndBadMemory_areReported() {
    assertThatThrownBy(
            () ->
                LOADER.loadInline(
                    "{\"name\": \"x\", \"isa\": \"x86\", \"memoryBytes\": \"6000\", "
                        + ONE_LEVEL.replace('\'', '"')
                        + "}",
                    List.of()))
        .isInstanceOf(ConfigException.class)
        .hasMessage(
            String.join(
                "\n",
                "/cores: missing (expected: an integer, required)",
                "/frequencyGHz: missing (expected: a number, required)",
                "/memoryBytes: \"6000\" (expected: a multiple of 4KiB, from 4KiB to below 8TiB)"));
  }

  @Test
  void notAnObject_isReported() {
    assertThatThrownBy(() -> LOADER.loadInline("[1, 2]", List.of()))
        .isInstanceOf(ConfigException.class)
        .hasMessage("inline config: an array (expected: a JSON object)");
  }

  @Test
  void unknownNameOrPath_isOneLine() {
    assertThat(LOADER.validate("arm64-neoverse-n2"))
        .singleElement()
        .asString()
        .isEqualTo(
            "arm64-neoverse-n2: "
                + "no such built-in machine or file (expected: a built-in machine name (arm64-apple-m2, arm64-neoverse-n1, x86-haswell, x86-skylake, x86-zen4) "
                + "or a path to a config file)");
  }
}
