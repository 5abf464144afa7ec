package dev.labelstream.io;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.apache.avro.Schema;
import org.junit.jupiter.api.Test;

/**
 * Every record schema in schemas/ is trusted for reading: a schema added later without its class among the
 * roots would make every read of that type fail with Avro's SecurityException (a policy event did once).
 */
class AvroClassesTest {
    @Test
    void everySchemaInTheSchemasFolderIsTrusted() throws IOException {
        List<Path> files;
        try (Stream<Path> s = Files.list(Path.of("schemas"))) {
            files = s.filter(p -> p.toString().endsWith(".avsc")).sorted().toList();
        }
        assertThat(files).isNotEmpty();
        for (Path f : files) {
            Schema schema = new Schema.Parser().parse(f.toFile());
            assertThat(AvroClasses.generatedNames()).as("%s is trusted", f).contains(schema.getFullName());
        }
        AvroClasses.trust();
        assertThat(AvroClasses.trusted()).isTrue();
    }
}
