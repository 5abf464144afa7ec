package dev.labelstream.io;

import org.apache.avro.util.ClassSecurityValidator;

/**
 * Avro 1.12 refuses to instantiate classes it does not trust when reading specific records; labelstream's
 * generated classes ({@code dev.labelstream.avro}) are added to the trusted set, on top of whatever the
 * application or system properties already trust.
 */
public final class AvroClasses {
    private static final String PACKAGE = "dev.labelstream.avro";
    private static boolean trusted;

    private AvroClasses() {}

    public static synchronized void trust() {
        if (!trusted) {
            ClassSecurityValidator.ClassSecurityPredicate previous = ClassSecurityValidator.getGlobal();
            ClassSecurityValidator.setGlobal(ClassSecurityValidator.composite(previous,
                    c -> PACKAGE.equals(c.getPackageName())));
            trusted = true;
        }
    }
}
