"""`train: {data: ...}`: where a spec's own data is and how to read it (checked by pydantic, no I/O).

A bare string is the path; the mapping form declares what cannot be detected
(the layout, a table's target column, how images meet the input's size and
colour). The path is relative to the working directory, as on the command
line (`archspec fit SPEC --data PATH` gives the same mapping with `path`
replaced). Reading the data is archspec.train.userdata's job; this module only says
what may be written.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

SOURCE_KINDS = ("image_folder", "segmentation", "arrays", "table", "text", "tokens", "hf_dataset")
"""The layouts archspec.train.userdata.sources reads (a test checks they equal its registry's keys)."""


class SplitSpec(BaseModel):
    """Fractions of the examples held out for validation and test when the data has no such split."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    val: float = Field(default=0.1, ge=0.0, lt=1.0)
    test: float = Field(default=0.1, ge=0.0, lt=1.0)

    @model_validator(mode="after")
    def _leaves_training(self) -> SplitSpec:
        if self.val + self.test >= 1.0:
            raise ValueError(f"val + test must leave examples to train on, got {self.val} + {self.test}")
        return self


class DataSpec(BaseModel):
    """A user's dataset: a folder, an .npz/.npy file or a CSV table."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    path: str | None = Field(default=None, min_length=1)
    """The file or folder; may be left to the command line (--data), the other options staying in the spec."""
    kind: Literal["image_folder", "segmentation", "arrays", "table", "text", "tokens", "hf_dataset"] | None = None
    """The layout; detected when omitted (class folders, images/ + masks/, .npz/.npy, .csv/.parquet, .txt,
    an .npy of token ids or an .npz of `tokens`, a folder written by Hugging Face's save_to_disk)."""
    target: str | list[str] | None = None
    """Tables: the column the model predicts; several 0/1 columns for task multilabel."""
    features: list[str] | None = None
    """Tables: the input columns (default: every other column)."""
    split_column: str | None = None
    """Tables: a column of train/val/test naming each row's split."""
    resize: Literal["stretch", "crop", "pad"] = "stretch"
    """Images: how an image of another size meets the input's height and width."""
    color: Literal["keep", "grey", "rgb"] = "keep"
    """Images: convert to one channel (grey) or three (rgb); keep refuses a mismatch with the input."""
    cache: Literal["none", "memory"] = "none"
    """Images: decode once and keep the decoded arrays in memory (fast when they fit), or stream every epoch."""
    split: SplitSpec = SplitSpec()
    skip_bad: bool = False
    """Skip unreadable files and ragged rows (counted in the run folder's data.json) instead of stopping."""
