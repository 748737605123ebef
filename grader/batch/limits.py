"""How long a cell and a submission may run, and how much memory, disk and processes a
submission may use."""

from __future__ import annotations

from dataclasses import dataclass, field

GIB = 1024**3
MIB = 1024**2


@dataclass(frozen=True)
class Limits:
    """Bounds for grading one submission.

    ``cell_timeouts`` gives a cell's limit by its nbgrader grade_id; every other cell gets
    ``cell_timeout_s``. The course's defaults leave room for a 2-core machine grading two
    submissions at once: importing TensorFlow alone takes 5-15 s there, and notebook 04's
    accuracy test evaluates 10,000 CIFAR-10 images.
    """

    cell_timeout_s: float = 300
    cell_timeouts: dict[str, float] = field(
        default_factory=lambda: {"setup": 300, "test_accuracy": 900}
    )
    submission_timeout_s: float = 1800
    memory_bytes: int = 6 * GIB
    disk_bytes: int = 2 * GIB  # everything the submission's workspace holds
    file_bytes: int = 1 * GIB  # any one file
    processes: int = 512  # processes and threads (TensorFlow starts one thread per core, twice)
    output_bytes: int = 64 * 1024  # what one cell may print into the feedback
    # ... and all of a notebook's cells together (its figures included: the course's own
    # notebooks show about 1 MiB of them)
    notebook_output_bytes: int = 4 * MIB
    upload_bytes: int = 256 * MIB  # any one file of the upload

    def for_cell(self, grade_id: str | None) -> float:
        if grade_id is not None and grade_id in self.cell_timeouts:
            return self.cell_timeouts[grade_id]
        return self.cell_timeout_s

    def describe(self) -> str:
        special = ", ".join(f"{k} {v:g} s" for k, v in sorted(self.cell_timeouts.items()))
        return (
            f"{self.cell_timeout_s:g} s a cell ({special}), {self.submission_timeout_s:g} s a "
            f"submission, {self.memory_bytes / GIB:g} GiB memory and {self.disk_bytes / GIB:g} GiB "
            f"disk a submission, {self.processes} processes"
        )


def parse_memory(text: str) -> int:
    """'6G', '512M' or a number of bytes."""
    units = {"K": 1024, "M": 1024**2, "G": GIB}
    text = text.strip().upper().removesuffix("B").removesuffix("I")
    if text and text[-1] in units:
        return int(float(text[:-1]) * units[text[-1]])
    return int(text)
