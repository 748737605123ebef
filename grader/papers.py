"""The papers' own figures, each with where the paper prints it: the one place the notebooks
quote them from.

A notebook that quotes a paper's figure shows the figure and its page with ``table(...)``, and
tests/test_papers.py checks that every figure a notebook's prose quotes is written there as it is
here, so a figure cannot drift between the prose, a cell and the paper.

Pages are those of the published PDFs: AlexNet's NIPS 2012 paper is 9 pages (proceedings pages
1097-1105; page 1 here is 1097). LeNet-5's, the Proceedings of the IEEE article (pp. 2278-2324), is
cited by section only (its page breaks differ between the printed article and the circulated
PDF).
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Figure:
    """One number as a paper states it: ``text`` is how the notebooks write it in prose."""

    text: str
    what: str
    where: str  # section and page, e.g. "§4.1, p. 6"


@dataclass(frozen=True)
class Paper:
    citation: str
    figures: dict[str, Figure] = field(default_factory=dict)

    def __getitem__(self, name: str) -> Figure:
        try:
            return self.figures[name]
        except KeyError:
            known = ", ".join(sorted(self.figures))
            raise KeyError(f"{self.citation} has no figure {name!r} here; known: {known}") from None

    def table(self, *names: str) -> str:
        """The named figures (all when none is named), one per line, with where the paper says so."""
        chosen = names or tuple(self.figures)
        width = max(len(self[name].text) for name in chosen)
        lines = [self.citation]
        lines += [f"  {self[n].text:>{width}}  {self[n].what} ({self[n].where})" for n in chosen]
        return "\n".join(lines)


ALEXNET_PAPER = Paper(
    "Krizhevsky, Sutskever and Hinton, ImageNet Classification with Deep Convolutional Neural "
    "Networks, NIPS 2012",
    {
        "parameters": Figure("60 million", "parameters", "abstract, p. 1"),
        "training_images": Figure("1.2 million", "ILSVRC training images", "§2, p. 2"),
        "bits_per_image": Figure(
            "10 bits", "constraint one labelled image puts on the network", "§4, p. 5"
        ),
        "top1_2010": Figure(
            "37.5%",
            "top-1 test error, ILSVRC-2010, one network",
            "abstract and Table 1, pp. 1 and 7",
        ),
        "top5_2010": Figure(
            "17.0%",
            "top-5 test error, ILSVRC-2010, one network",
            "abstract and Table 1, pp. 1 and 7",
        ),
        "top5_2012": Figure(
            "15.3%",
            "top-5 test error, ILSVRC-2012, seven networks",
            "abstract and Table 2, pp. 1 and 7",
        ),
        "top5_2012_runner_up": Figure(
            "26.2%", "top-5 test error of the second-best ILSVRC-2012 entry", "abstract, p. 1"
        ),
        "top5_five_cnns": Figure(
            "16.4%", "top-5 error, ILSVRC-2012, five networks averaged", "§6, p. 7"
        ),
        "top5_one_cnn": Figure(
            "18.2%", "top-5 validation error, ILSVRC-2012, one network", "§6, p. 7"
        ),
        "training_days": Figure(
            "five to six days", "training time on two GTX 580 3 GB GPUs", "§1, p. 2"
        ),
        "epochs": Figure("90", "passes over the 1.2 million training images", "§5, p. 6"),
        "relu_speedup": Figure(
            "6×",
            "ReLU reaches 25% CIFAR-10 training error sooner than tanh",
            "§3.1 and Figure 1, p. 3",
        ),
        "lrn_gain": Figure(
            "1.4 and 1.2 points", "top-1 and top-5 error saved by LRN", "§3.3, p. 4"
        ),
        "overlap_gain": Figure(
            "0.4 and 0.3 points", "top-1 and top-5 error saved by overlapping pooling", "§3.4, p. 4"
        ),
        "crop": Figure(
            "224×224", "random crops of the 256×256 images, and their mirror images", "§4.1, p. 5"
        ),
        "crop_factor": Figure(
            "2048", "factor by which crops and reflections enlarge the training set", "§4.1, p. 5"
        ),
        "test_patches": Figure(
            "ten",
            "patches averaged at test time: four corners, centre, their mirror images",
            "§4.1, p. 5",
        ),
        "colour_sigma": Figure(
            "0.1", "standard deviation of the random colour-shift coefficients", "§4.1, p. 6"
        ),
        "colour_gain": Figure("over 1%", "top-1 error saved by the colour shifts", "§4.1, p. 6"),
        "dropout_rate": Figure(
            "0.5", "probability that dropout zeroes a hidden unit, in fc6 and fc7", "§4.2, p. 6"
        ),
        "dropout_cost": Figure(
            "roughly doubles",
            "what dropout does to the iterations needed to converge",
            "§4.2, p. 6",
        ),
        "weight_decay": Figure(
            "0.0005", "weight decay, with momentum 0.9 and batches of 128", "§5, p. 6"
        ),
    },
)

LENET5_PAPER = Paper(
    "LeCun, Bottou, Bengio and Haffner, Gradient-Based Learning Applied to Document Recognition, "
    "Proceedings of the IEEE 86(11), 1998",
    {
        "trainable_parameters": Figure("60,000", "trainable parameters of LeNet-5", "§II.B"),
        "connections": Figure(
            "340,908", "connections: the sum of the paper's per-layer counts", "§II.B"
        ),
        "c3_centres": Figure(
            "20×20", "area of the input where C3's receptive fields are centred", "§II.B"
        ),
        "input": Figure("32×32", "input size, larger than the digits' 20×20 box", "§II.B"),
        "squashing": Figure("1.7159·tanh(2a/3)", "the squashing function", "§II.B and Appendix A"),
        "background": Figure("−0.1", "input value of the white background", "§II.B"),
        "ink": Figure("1.175", "input value of full black ink", "§II.B"),
    },
)

PAPERS = {"alexnet": ALEXNET_PAPER, "lenet5": LENET5_PAPER}
