package dev.labelstream.shadow;

import java.util.List;

/**
 * What one sampled record adds to the agreement report: the primary's and the shadow's labels, scores and actions
 * ({@link Status#COMPARED}), or that the shadow did not score it ({@link Status#SHED}: it was behind; {@link
 * Status#FAILED}: its call failed or timed out). Ids only, never the text.
 *
 * @param pair the models compared, {@code primary-name@version>shadow-name@version}: the report's key
 * @param eventTime the input's Kafka timestamp (the drift windows' event time)
 * @param status compared, shed or failed
 * @param inputId the producer's id of the record
 * @param primaryDecisionId the primary decision's id
 * @param primaryLabels the primary model's labels
 * @param primaryScores its scores
 * @param primaryAction its action
 * @param shadowLabels the shadow model's labels (null unless compared)
 * @param shadowScores its scores (null unless compared)
 * @param shadowAction its action (null unless compared)
 */
public record AgreementObservation(String pair, long eventTime, Status status, String inputId,
        String primaryDecisionId, List<String> primaryLabels, float[] primaryScores, String primaryAction,
        List<String> shadowLabels, float[] shadowScores, String shadowAction) {

    /** Whether the shadow scored the record. */
    public enum Status {
        COMPARED,
        SHED,
        FAILED
    }

    /** The key of the report for a primary and a shadow model (each name@version). */
    public static String pair(String primaryModel, String shadowModel) {
        return primaryModel + ">" + shadowModel;
    }

    public static AgreementObservation compared(String shadowModel, ShadowInput in, List<String> shadowLabels,
            float[] shadowScores, String shadowAction) {
        return new AgreementObservation(pair(in.primaryModel(), shadowModel), in.input().source().timestamp(),
                Status.COMPARED, in.input().id(), in.primaryDecisionId(), in.primaryLabels(), in.primaryScores(),
                in.primaryAction(), shadowLabels, shadowScores, shadowAction);
    }

    public static AgreementObservation notScored(String shadowModel, ShadowInput in, Status status) {
        return new AgreementObservation(pair(in.primaryModel(), shadowModel), in.input().source().timestamp(), status,
                in.input().id(), in.primaryDecisionId(), in.primaryLabels(), in.primaryScores(), in.primaryAction(),
                null, null, null);
    }
}
