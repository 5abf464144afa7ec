package dev.labelstream.drift;

/**
 * The drift statistics of a window, each with its default thresholds (see DriftOptions for the reasons). Every
 * value is oriented so that larger means more drift, and a status is WARN at or above the warn threshold, ALERT
 * at or above the alert threshold.
 */
enum Statistic {
    LABEL_PSI("label_psi", "label-psi", 0.1, 0.25,
            "PSI of the top-label distribution against the reference"),
    LABEL_JS_DISTANCE("label_js_distance", "label-js-distance", 0.1, 0.2,
            "Jensen-Shannon distance (natural log) of the top-label distribution against the reference"),
    MEAN_CONFIDENCE_DROP("mean_confidence_drop", "mean-confidence-drop", 0.05, 0.1,
            "reference mean confidence minus the window's"),
    LOW_CONFIDENCE_SHARE_INCREASE("low_confidence_share_increase", "low-confidence-share-increase", 0.05, 0.15,
            "window's share of predictions below drift.low-confidence minus the reference's"),
    TOKEN_LENGTH_PSI("token_length_psi", "token-length-psi", 0.1, 0.25,
            "PSI of the token-length distribution (fixed bins, merged to >= 5% of the reference each)"),
    TRUNCATION_RATE_INCREASE("truncation_rate_increase", "truncation-rate-increase", 0.15, 0.3,
            "window's share of truncated inputs minus the reference's"),
    UNKNOWN_TOKEN_RATE_INCREASE("unknown_token_rate_increase", "unknown-token-rate-increase", 0.01, 0.05,
            "window's share of unknown tokens minus the reference's"),
    EMBEDDING_COSINE_DISTANCE("embedding_cosine_distance", "embedding-cosine-distance", 0.1, 0.2,
            "cosine distance of the window's mean embedding to the reference centroid"),
    EMBEDDING_MMD("embedding_mmd", "embedding-mmd", 0.01, 0.05,
            "MMD^2 (RBF kernel, unbiased) of the window's embedding sample against the reference sample"),
    DEAD_LETTER_RATE("dead_letter_rate", "dead-letter-rate", 0.02, 0.05,
            "share of the window's inputs that were not classified");

    /** Name in reports and metrics. */
    final String id;
    /** Option key part: drift.{key}.warn / .alert. */
    final String key;
    final double defaultWarn;
    final double defaultAlert;
    final String description;

    Statistic(String id, String key, double defaultWarn, double defaultAlert, String description) {
        this.id = id;
        this.key = key;
        this.defaultWarn = defaultWarn;
        this.defaultAlert = defaultAlert;
        this.description = description;
    }

    static Statistic byId(String id) {
        for (Statistic s : values()) {
            if (s.id.equals(id)) {
                return s;
            }
        }
        return null;
    }
}
