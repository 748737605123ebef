def lrn(a, k=2.0, n=5, alpha=1e-4, beta=0.75):
    """Local response normalisation across the channels (last axis) of a, as in the AlexNet paper."""
    # The plausible bug: alpha divided by n, as PyTorch's LocalResponseNorm and Caffe do.
    a = np.asarray(a, dtype=np.float64)
    squares = a ** 2
    channels = a.shape[-1]
    sums = np.zeros_like(a)
    for i in range(channels):
        low, high = max(0, i - n // 2), min(channels, i + n // 2 + 1)
        sums[..., i] = squares[..., low:high].sum(axis=-1)
    return a / (k + alpha / n * sums) ** beta
