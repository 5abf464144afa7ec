package dev.labelstream.inference;

/**
 * How a length-sorted batch is cut into model calls: a call holds consecutive sequences while it has fewer
 * than {@code maxRows} rows, its padded size (rows x padded length) stays within {@code tokenBudget}, and at
 * least {@code minEfficiency} of its (unrounded) cells are real tokens; each call is padded to its longest
 * sequence rounded up to a multiple of {@code padMultiple} (never past {@code maxLength}). The budget bounds
 * activation memory; the efficiency floor keeps short texts from being padded to the length of long ones when
 * the budget would let them share a call; the rounding bounds the number of shapes a GPU memory arena sees.
 *
 * <p>One rule for the classifier and for the benchmark's padding figures.
 */
public record SubBatchPlan(int tokenBudget, int maxRows, int padMultiple, int maxLength, double minEfficiency) {

    public SubBatchPlan {
        if (tokenBudget < 1 || maxRows < 1 || padMultiple < 1 || maxLength < 1) {
            throw new IllegalArgumentException("token budget, rows, pad multiple and max length must be >= 1");
        }
        if (!(minEfficiency >= 0 && minEfficiency <= 1)) {
            throw new IllegalArgumentException(InferenceOptions.MIN_PADDING_EFFICIENCY.key()
                    + " must be in [0, 1], got " + minEfficiency);
        }
    }

    /** The length a sequence of {@code length} tokens is padded to. */
    public int paddedLength(int length) {
        // Never past max_length: it may be the model's last position.
        return Math.min(roundUp(length, padMultiple), Math.max(length, maxLength));
    }

    /**
     * The end (exclusive) of the call that starts at {@code start} in {@code sortedLengths} (ascending); always
     * at least {@code start + 1}, so an over-long sequence gets a call of its own.
     */
    public int end(int[] sortedLengths, int start) {
        int end = start + 1;
        long real = sortedLengths[start];
        while (end < sortedLengths.length && end - start < maxRows) {
            int next = sortedLengths[end];
            int rows = end - start + 1;
            if ((long) rows * paddedLength(next) > tokenBudget || real + next < minEfficiency * rows * next) {
                break;
            }
            real += next;
            end++;
        }
        return end;
    }

    private static int roundUp(int n, int multiple) {
        return (n + multiple - 1) / multiple * multiple;
    }
}
