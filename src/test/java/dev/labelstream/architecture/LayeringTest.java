package dev.labelstream.architecture;

import static com.tngtech.archunit.library.Architectures.layeredArchitecture;
import static com.tngtech.archunit.library.dependencies.SlicesRuleDefinition.slices;
import static org.assertj.core.api.Assertions.assertThat;

import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Imports run one way, as docs/architecture.md draws them: the command line above the entry points (bench,
 * demo), those above the configuration reader, that above the job and the SQL provider, those above the
 * job's settings (options and the validation pass), and those above the core packages, which know nothing of any of them. Every package under src/main/java is described in
 * docs/architecture.md.
 */
class LayeringTest {
    private static final String ROOT = "dev.labelstream";
    private static JavaClasses classes;

    @BeforeAll
    static void importMainClasses() {
        classes = new ClassFileImporter().withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
                .importPackages(ROOT);
    }

    @Test
    void entryPointsSitAboveTheJobAndTheJobAboveTheCore() {
        layeredArchitecture().consideringOnlyDependenciesInLayers()
                .withOptionalLayers(true)
                .layer("cli").definedBy(ROOT + ".cli..")
                .layer("bench").definedBy(ROOT + ".bench..")
                .layer("demo").definedBy(ROOT + ".demo..")
                .layer("config").definedBy(ROOT + ".config..")
                .layer("sql").definedBy(ROOT + ".sql..")
                .layer("job").definedBy(ROOT + ".job..")
                .layer("settings").definedBy(ROOT + ".settings..")
                .layer("core").definedBy(ROOT + ".classify..", ROOT + ".policy..", ROOT + ".inference..", ROOT + ".moderation..",
                        ROOT + ".batching..", ROOT + ".io..", ROOT + ".drift..", ROOT + ".metrics..",
                        ROOT + ".avro..")
                .whereLayer("cli").mayNotBeAccessedByAnyLayer()
                .whereLayer("bench").mayOnlyBeAccessedByLayers("cli")
                .whereLayer("demo").mayOnlyBeAccessedByLayers("cli", "bench")
                .whereLayer("config").mayOnlyBeAccessedByLayers("cli", "bench", "demo")
                .whereLayer("sql").mayOnlyBeAccessedByLayers("cli", "bench", "demo")
                .whereLayer("job").mayOnlyBeAccessedByLayers("cli", "bench", "demo", "config")
                .whereLayer("settings").mayOnlyBeAccessedByLayers("cli", "bench", "demo", "config", "sql", "job")
                .check(classes);
    }

    @Test
    void packagesHaveNoCycles() {
        slices().matching(ROOT + ".(*)..").should().beFreeOfCycles().check(classes);
    }

    @Test
    void everyPackageIsDescribedInTheArchitecturePageAndHasAPackageInfo() throws IOException {
        String page = Files.readString(Path.of("docs", "architecture.md"));
        Path sources = Path.of("src", "main", "java", "dev", "labelstream");
        List<Path> packages;
        try (Stream<Path> s = Files.list(sources)) {
            packages = s.filter(Files::isDirectory).sorted().toList();
        }
        assertThat(packages).isNotEmpty();
        for (Path p : packages) {
            String name = p.getFileName().toString();
            assertThat(page).as("docs/architecture.md describes package %s", name)
                    .contains("`" + ROOT + "." + name + "`");
            assertThat(p.resolve("package-info.java")).as("package %s has a package-info.java", name)
                    .isRegularFile();
        }
    }
}
