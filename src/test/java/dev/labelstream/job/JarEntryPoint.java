package dev.labelstream.job;

import dev.labelstream.config.Options;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Entry point of the job jar that {@link ResubmissionTest} builds: {@code key=value} arguments are labelstream
 * options. It uses public API only, so it runs the same whether its classes come from the job jar (a user-code
 * class loader) or the application class path.
 */
public final class JarEntryPoint {
    private JarEntryPoint() {}

    public static void main(String[] args) throws Exception {
        Map<String, String> options = new LinkedHashMap<>();
        for (String a : args) {
            int eq = a.indexOf('=');
            options.put(a.substring(0, eq), a.substring(eq + 1));
        }
        LabelstreamJob.run(Options.load(null, options));
    }
}
