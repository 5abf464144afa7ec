package dev.labelstream.shadow;

import dev.labelstream.drift.DriftMath;
import dev.labelstream.inference.Classification;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * One window's comparison of a primary and a shadow model, folded record by record: counts, the confusion matrix of
 * top labels (primary rows x shadow columns), the action matrix, the label mix of each side, the summed absolute
 * score difference per label both models have, and the {@code maxExamples} largest disagreements. Bounded: its
 * size depends on the label counts and {@code maxExamples}, never on the records.
 *
 * <p>The labels are fixed by the first compared record; a window holds one model pair (it is keyed by it).
 */
public final class AgreementAccumulator implements Serializable {
    private static final long serialVersionUID = 1L;
    /** ALLOW, REVIEW, BLOCK: the action matrix's order. */
    static final List<String> ACTIONS = List.of("ALLOW", "REVIEW", "BLOCK");

    /** One of the largest disagreements: ids and labels, never text. */
    public record Example(String inputId, String primaryDecisionId, String primaryLabel, String shadowLabel,
            double distance) implements Serializable {}

    private final int maxExamples;
    private List<String> primaryLabels;
    private List<String> shadowLabels;
    /** For each primary label, the shadow's index of the same label, or -1. */
    private int[] shared;
    private long compared;
    private long shed;
    private long failed;
    private long agreed;
    private long[][] confusion;
    private final long[][] actions = new long[ACTIONS.size()][ACTIONS.size()];
    private double[] absDiff;
    private final List<Example> examples = new ArrayList<>();

    public AgreementAccumulator(int maxExamples) {
        this.maxExamples = maxExamples;
    }

    public void add(AgreementObservation o) {
        switch (o.status()) {
            case SHED -> shed++;
            case FAILED -> failed++;
            case COMPARED -> compare(o);
        }
    }

    private void compare(AgreementObservation o) {
        if (primaryLabels == null) {
            primaryLabels = List.copyOf(o.primaryLabels());
            shadowLabels = List.copyOf(o.shadowLabels());
            confusion = new long[primaryLabels.size()][shadowLabels.size()];
            absDiff = new double[primaryLabels.size()];
            shared = new int[primaryLabels.size()];
            for (int i = 0; i < shared.length; i++) {
                shared[i] = shadowLabels.indexOf(primaryLabels.get(i));
            }
        }
        compared++;
        int p = Classification.topOf(o.primaryScores());
        int s = Classification.topOf(o.shadowScores());
        String pl = primaryLabels.get(p);
        String sl = shadowLabels.get(s);
        boolean agree = pl.equals(sl);
        if (agree) {
            agreed++;
        }
        confusion[p][s]++;
        int from = ACTIONS.indexOf(o.primaryAction());
        int to = ACTIONS.indexOf(o.shadowAction());
        if (from >= 0 && to >= 0) {
            actions[from][to]++;
        }
        double distance = 0;
        for (int i = 0; i < shared.length; i++) {
            if (shared[i] >= 0) {
                double d = Math.abs(o.primaryScores()[i] - o.shadowScores()[shared[i]]);
                absDiff[i] += d;
                distance += d;
            }
        }
        // Total variation over the shared labels; a different top label ranks above any same-label difference.
        distance = distance / 2 + (agree ? 0 : 1);
        if (distance > 0) {
            offer(new Example(o.inputId(), o.primaryDecisionId(), pl, sl, distance));
        }
    }

    private void offer(Example e) {
        if (maxExamples <= 0) {
            return;
        }
        examples.add(e);
        examples.sort(Comparator.comparingDouble(Example::distance).reversed().thenComparing(Example::inputId,
                Comparator.nullsLast(Comparator.naturalOrder())));
        if (examples.size() > maxExamples) {
            examples.remove(examples.size() - 1);
        }
    }

    /** {@code other}'s records added to these; returns this. */
    public AgreementAccumulator merge(AgreementAccumulator other) {
        shed += other.shed;
        failed += other.failed;
        if (other.primaryLabels == null) {
            return this;
        }
        if (primaryLabels == null) {
            primaryLabels = other.primaryLabels;
            shadowLabels = other.shadowLabels;
            shared = other.shared.clone();
            confusion = new long[primaryLabels.size()][shadowLabels.size()];
            absDiff = new double[primaryLabels.size()];
        }
        compared += other.compared;
        agreed += other.agreed;
        for (int i = 0; i < confusion.length; i++) {
            for (int j = 0; j < confusion[i].length; j++) {
                confusion[i][j] += other.confusion[i][j];
            }
            absDiff[i] += other.absDiff[i];
        }
        for (int i = 0; i < actions.length; i++) {
            for (int j = 0; j < actions[i].length; j++) {
                actions[i][j] += other.actions[i][j];
            }
        }
        other.examples.forEach(this::offer);
        return this;
    }

    public long compared() {
        return compared;
    }

    public long shed() {
        return shed;
    }

    public long failed() {
        return failed;
    }

    public long agreed() {
        return agreed;
    }

    /** Top-label agreement, NaN when nothing was compared. */
    public double agreement() {
        return compared == 0 ? Double.NaN : (double) agreed / compared;
    }

    /** The primary's labels; empty when nothing was compared. */
    public List<String> primaryLabels() {
        return primaryLabels == null ? List.of() : primaryLabels;
    }

    /** The shadow's labels; empty when nothing was compared. */
    public List<String> shadowLabels() {
        return shadowLabels == null ? List.of() : shadowLabels;
    }

    /** Records whose primary top label is {@code primary} and shadow top label {@code shadow}. */
    public long confusion(String primary, String shadow) {
        int i = primaryLabels().indexOf(primary);
        int j = shadowLabels().indexOf(shadow);
        return i < 0 || j < 0 ? 0 : confusion[i][j];
    }

    /** Records the primary decided {@code from} and the shadow {@code to}. */
    public long actions(String from, String to) {
        return actions[ACTIONS.indexOf(from)][ACTIONS.indexOf(to)];
    }

    /** Records whose action differs between the two. */
    public long actionsChanged() {
        long n = 0;
        for (int i = 0; i < actions.length; i++) {
            for (int j = 0; j < actions[i].length; j++) {
                n += i == j ? 0 : actions[i][j];
            }
        }
        return n;
    }

    /** Mean absolute score difference of a primary label the shadow has too; NaN otherwise or with no records. */
    public double meanAbsScoreDifference(String label) {
        int i = primaryLabels().indexOf(label);
        return i < 0 || shared[i] < 0 || compared == 0 ? Double.NaN : absDiff[i] / compared;
    }

    /**
     * PSI of the shadow's top-label mix against the primary's, over the labels of both (a label one model lacks
     * counts zero for it); NaN when nothing was compared.
     */
    public double labelMixPsi() {
        if (compared == 0) {
            return Double.NaN;
        }
        List<String> all = new ArrayList<>(primaryLabels);
        shadowLabels.stream().filter(l -> !all.contains(l)).forEach(all::add);
        long[] primary = new long[all.size()];
        long[] shadow = new long[all.size()];
        for (int i = 0; i < confusion.length; i++) {
            for (int j = 0; j < confusion[i].length; j++) {
                primary[i] += confusion[i][j];
                shadow[all.indexOf(shadowLabels.get(j))] += confusion[i][j];
            }
        }
        return DriftMath.psi(primary, shadow);
    }

    /** The largest disagreements, largest first. */
    public List<Example> examples() {
        return List.copyOf(examples);
    }
}
