"""The torch commands refuse a model too large to allocate in one line (issue 9)."""

from __future__ import annotations

import pytest

from cnncost.cli import main

pytest.importorskip("torch")


@pytest.mark.parametrize("command", ["verify", "time"])
def test_a_model_too_large_to_allocate_is_one_line(capsys, command):
    # AlexNet's fc6 at this input would hold about 4·10¹³ bytes of weights.
    with pytest.raises(SystemExit) as exit_info:
        main([command, "alexnet", "--input", "3x100000x100000"])
    out, err = capsys.readouterr()
    assert exit_info.value.code == 2 and out == ""
    assert len(err.splitlines()) == 1
    assert "alexnet does not fit in memory at this size" in err
