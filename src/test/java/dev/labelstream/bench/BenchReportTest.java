package dev.labelstream.bench;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.labelstream.bench.BenchReport.Ratio;
import dev.labelstream.bench.BenchReport.Row;
import dev.labelstream.bench.BenchStats.Summary;
import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import javax.xml.parsers.DocumentBuilderFactory;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.w3c.dom.Document;

class BenchReportTest {

    @Test
    void theCpuLineSaysWhichSimdFeaturesThereAreAndWhichNot() {
        assertThat(BenchReport.simd("fpu sse4_2 avx f16c fma avx2"))
                .isEqualTo("avx2 fma; no avx512f avx512_vnni avx_vnni amx_int8");
        assertThat(BenchReport.simd("avx2 fma avx512f avx512_vnni avx_vnni amx_int8 avx512bw"))
                .isEqualTo("avx2 fma avx512f avx512_vnni avx_vnni amx_int8");
        // flags are whole words: avx512_vnnix is not avx512_vnni
        assertThat(BenchReport.simd("neon avx512_vnnix"))
                .isEqualTo("no avx2 fma avx512f avx512_vnni avx_vnni amx_int8");
    }

    @Test
    void numbersKeepAboutThreeSignificantDigits() {
        assertThat(BenchReport.fmt(1234.56)).isEqualTo("1235");
        assertThat(BenchReport.fmt(123.4)).isEqualTo("123");
        assertThat(BenchReport.fmt(12.345)).isEqualTo("12.3");
        assertThat(BenchReport.fmt(1.2345)).isEqualTo("1.23");
        assertThat(BenchReport.fmt(0.91234)).isEqualTo("0.912");
        assertThat(BenchReport.fmt(0)).isEqualTo("0.000");
        assertThat(BenchReport.fmt(Double.NaN)).isEqualTo("n/a");
        assertThat(BenchReport.fmt(Double.POSITIVE_INFINITY)).isEqualTo("n/a");
        assertThat(BenchReport.fmtRatio(0.8765)).isEqualTo("0.88x");
        assertThat(BenchReport.fmtRatio(Double.NaN)).isEqualTo("n/a");
    }

    @Test
    void tableAlignsColumnsAndShowsMinMedianMax() {
        String t = BenchReport.table(List.of(
                new Row("raw engine, batch 32", Summary.of(40, 42.5, 45), "rec/s", "tokenize + model"),
                new Row("pipeline", Summary.of(38.25), "rec/s", null),
                new Row("peer", Summary.EMPTY, "rec/s", "not available")));
        List<String> lines = t.lines().toList();
        assertThat(lines).hasSize(5);
        assertThat(lines.get(0)).startsWith("figure").contains("min", "median", "max", "runs", "unit", "note");
        assertThat(lines.get(1)).matches("-+");
        assertThat(lines.get(2)).startsWith("raw engine, batch 32")
                .contains("40.0", "42.5", "45.0", "tokenize + model");
        // a single run shows only its value, in the median column
        assertThat(lines.get(3)).contains("38.3").doesNotContain("n/a");
        assertThat(lines.get(4)).contains("n/a", "not available");
        // numbers are right-aligned: the median column ends at the same position on every row
        int end = lines.get(0).indexOf("median") + "median".length();
        assertThat(lines.get(2).substring(0, end)).endsWith("42.5");
        assertThat(lines.get(3).substring(0, end)).endsWith("38.3");
        assertThat(lines.get(4).substring(0, end)).endsWith("n/a");
    }

    @Test
    void ratiosTable() {
        String t = BenchReport.ratios(List.of(new Ratio("pipeline / raw engine (best)", 0.912, "committed / raw"),
                new Ratio("pipeline / peer", Double.NaN, "peer not available")));
        assertThat(t).contains("pipeline / raw engine (best)  0.91x  committed / raw");
        assertThat(t).contains("pipeline / peer                 n/a  peer not available");
    }

    @Test
    void columnsTrimTrailingSpaces() {
        String t = BenchReport.columns(List.of(new String[] {"a", "bb"}, new String[] {"ccc", ""}),
                new boolean[] {false, false});
        assertThat(t).isEqualTo("a    bb\n-------\nccc\n");
    }

    @Test
    void reportJsonIsWrittenAndReadBack(@TempDir Path dir) throws Exception {
        ObjectNode report = BenchReport.JSON.createObjectNode();
        report.set("pipeline", BenchReport.json(Summary.of(1, 2, 3)));
        report.set("peer", BenchReport.json(Summary.EMPTY));
        BenchReport.put(report, "ratio", 0.5);
        BenchReport.put(report, "missing", Double.NaN);
        Path file = dir.resolve("nested/report.json");
        BenchReport.writeJson(file, report);

        JsonNode back = BenchReport.JSON.readTree(Files.readString(file));
        assertThat(back.path("pipeline").path("min").asDouble()).isEqualTo(1);
        assertThat(back.path("pipeline").path("median").asDouble()).isEqualTo(2);
        assertThat(back.path("pipeline").path("max").asDouble()).isEqualTo(3);
        assertThat(back.path("pipeline").path("runs").asInt()).isEqualTo(3);
        assertThat(back.path("peer").path("median").isNull()).isTrue();
        assertThat(back.path("peer").path("runs").asInt()).isZero();
        assertThat(back.path("ratio").asDouble()).isEqualTo(0.5);
        assertThat(back.path("missing").isNull()).isTrue();
    }

    @Test
    void svgIsWellFormedAndHasABarPerConfiguration() throws Exception {
        String svg = BenchChart.svg("bench <test> & \"chart\"",
                List.of(new BenchChart.Bar("raw engine, batch 32", 40, 42, 45),
                        new BenchChart.Bar("pipeline", 38, 39, 41),
                        new BenchChart.Bar("peer", Double.NaN, Double.NaN, Double.NaN)),
                List.of(new BenchChart.Latency("pipeline @ 20 rec/s", 500, 900, 1200)),
                Map.of("1", 3, "2-3", 5));
        Document doc = DocumentBuilderFactory.newInstance().newDocumentBuilder()
                .parse(new ByteArrayInputStream(svg.getBytes(StandardCharsets.UTF_8)));
        assertThat(doc.getDocumentElement().getNodeName()).isEqualTo("svg");
        // background + 2 throughput bars + 3 latency bars + 2 batch-size bars
        assertThat(doc.getElementsByTagName("rect").getLength()).isEqualTo(1 + 2 + 3 + 2);
        assertThat(doc.getElementsByTagName("path").getLength()).isEqualTo(2);
        assertThat(svg).contains("bench &lt;test&gt; &amp; &quot;chart&quot;", "not measured", "1200 ms", "p99");
    }

    @Test
    void svgWithoutLatencyOrBatches() throws Exception {
        String svg = BenchChart.svg("sweep", List.of(new BenchChart.Bar("64 / 8192 / 20 ms", Double.NaN, 30,
                Double.NaN)), List.of(), Map.of());
        Document doc = DocumentBuilderFactory.newInstance().newDocumentBuilder()
                .parse(new ByteArrayInputStream(svg.getBytes(StandardCharsets.UTF_8)));
        assertThat(doc.getElementsByTagName("rect").getLength()).isEqualTo(2);
        assertThat(doc.getElementsByTagName("path").getLength()).isZero();
    }
}
