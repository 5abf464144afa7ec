package dev.labelstream.policy;

import java.util.List;
import java.util.Objects;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.java.typeutils.ListTypeInfo;
import org.apache.flink.api.java.typeutils.PojoField;
import org.apache.flink.api.java.typeutils.PojoTypeInfo;

/**
 * A batch of records and the policy in force when they were batched: every record of it is decided under that one
 * policy, whenever the classifier gets to it (a new version applies to the records batched after it arrived).
 *
 * @param records the records, in arrival order
 * @param policy the policy that decides them
 * @param modelDir the bundle of the promoted model that classifies them; null for the configured model
 * @param <T> the record type
 */
public record PolicyBatch<T>(List<T> records, PolicyDocument policy, String modelDir) {

    public PolicyBatch {
        Objects.requireNonNull(records, "records");
        Objects.requireNonNull(policy, "policy");
    }

    /** A batch for the configured model. */
    public PolicyBatch(List<T> records, PolicyDocument policy) {
        this(records, policy, null);
    }

    /**
     * The type of a batch of {@code element}: a POJO of the records' list serializer and a policy serializer that
     * writes the document's JSON. Flink's async operator keeps in-flight batches in its checkpoints, so this is
     * what a savepoint holds for them; the JSON keeps that readable across versions of the document class.
     */
    @SuppressWarnings({"unchecked", "rawtypes"})
    public static <T> TypeInformation<PolicyBatch<T>> typeInfo(TypeInformation<T> element) {
        try {
            return (TypeInformation) new PojoTypeInfo<>(PolicyBatch.class, List.of(
                    new PojoField(PolicyBatch.class.getDeclaredField("records"), new ListTypeInfo<>(element)),
                    new PojoField(PolicyBatch.class.getDeclaredField("policy"), PolicySerializer.TYPE_INFO),
                    new PojoField(PolicyBatch.class.getDeclaredField("modelDir"),
                            org.apache.flink.api.common.typeinfo.Types.STRING)));
        } catch (NoSuchFieldException e) {
            throw new IllegalStateException("PolicyBatch lost a field: this is a bug", e);
        }
    }
}
