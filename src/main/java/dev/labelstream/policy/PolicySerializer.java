package dev.labelstream.policy;

import java.io.IOException;
import org.apache.flink.api.common.serialization.SerializerConfig;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.common.typeutils.SimpleTypeSerializerSnapshot;
import org.apache.flink.api.common.typeutils.TypeSerializer;
import org.apache.flink.api.common.typeutils.TypeSerializerSnapshot;
import org.apache.flink.api.common.typeutils.base.TypeSerializerSingleton;
import org.apache.flink.core.memory.DataInputView;
import org.apache.flink.core.memory.DataOutputView;
import org.apache.flink.types.StringValue;

/**
 * Writes a {@link PolicyDocument} as its JSON ({@link PolicyDocument#toJson}). Documents are immutable, so a copy
 * is the same instance: a batch crossing a chained operator without object reuse costs no parse.
 */
final class PolicySerializer extends TypeSerializerSingleton<PolicyDocument> {
    private static final long serialVersionUID = 1L;

    static final PolicySerializer INSTANCE = new PolicySerializer();

    static final TypeInformation<PolicyDocument> TYPE_INFO = new PolicyTypeInfo();

    @Override
    public boolean isImmutableType() {
        return true;
    }

    @Override
    public PolicyDocument createInstance() {
        return null;
    }

    @Override
    public PolicyDocument copy(PolicyDocument from) {
        return from;
    }

    @Override
    public PolicyDocument copy(PolicyDocument from, PolicyDocument reuse) {
        return from;
    }

    @Override
    public int getLength() {
        return -1;
    }

    @Override
    public void serialize(PolicyDocument record, DataOutputView target) throws IOException {
        StringValue.writeString(record.toJson(), target);
    }

    @Override
    public PolicyDocument deserialize(DataInputView source) throws IOException {
        String json = StringValue.readString(source);
        try {
            return PolicyDocument.parseStored(json);
        } catch (PolicyRejectedException e) {
            throw new IOException("a stored policy document does not parse: " + e.getMessage(), e);
        }
    }

    @Override
    public PolicyDocument deserialize(PolicyDocument reuse, DataInputView source) throws IOException {
        return deserialize(source);
    }

    @Override
    public void copy(DataInputView source, DataOutputView target) throws IOException {
        StringValue.copyString(source, target);
    }

    @Override
    public TypeSerializerSnapshot<PolicyDocument> snapshotConfiguration() {
        return new Snapshot();
    }

    /** The serializer's snapshot: the format is the JSON, so there is nothing to configure. */
    public static final class Snapshot extends SimpleTypeSerializerSnapshot<PolicyDocument> {
        public Snapshot() {
            super(() -> INSTANCE);
        }
    }

    /** The type information that hands out {@link #INSTANCE}. */
    static final class PolicyTypeInfo extends TypeInformation<PolicyDocument> {
        private static final long serialVersionUID = 1L;

        @Override
        public boolean isBasicType() {
            return false;
        }

        @Override
        public boolean isTupleType() {
            return false;
        }

        @Override
        public int getArity() {
            return 1;
        }

        @Override
        public int getTotalFields() {
            return 1;
        }

        @Override
        public Class<PolicyDocument> getTypeClass() {
            return PolicyDocument.class;
        }

        @Override
        public boolean isKeyType() {
            return false;
        }

        @Override
        public TypeSerializer<PolicyDocument> createSerializer(SerializerConfig config) {
            return INSTANCE;
        }

        @Override
        public String toString() {
            return "PolicyDocument(json)";
        }

        @Override
        public boolean equals(Object obj) {
            return obj instanceof PolicyTypeInfo;
        }

        @Override
        public int hashCode() {
            return PolicyTypeInfo.class.hashCode();
        }

        @Override
        public boolean canEqual(Object obj) {
            return obj instanceof PolicyTypeInfo;
        }
    }
}
