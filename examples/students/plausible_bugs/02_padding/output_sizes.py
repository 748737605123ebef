def conv_output_size(n, k, s, padding):
    """Output rows of a convolution with kernel k and stride s on n rows ("valid", "same" or int p)."""
    if padding == "valid":
        return (n - k) // s + 1
    if padding == "same":
        return math.ceil(n / s)
    return (n + 2 * padding - k) // s + 1


def same_padding(n, k, s):
    """(before, after) rows of zeros Keras adds for padding="same"."""
    # A plausible student answer from a framework with "centred" habits: the total is right,
    # but the odd row goes on top. conv2d, which calls this, then shifts its 'same' windows.
    out = math.ceil(n / s)
    total = max((out - 1) * s + k - n, 0)
    return total - total // 2, total // 2
