"""Reading meta-training runs from their model cards (the .json next to each .pt), for the table scripts of the
learned-optimizer recipes (learned_wide.py, learned_schedule.py) and the ship rule they share."""
import json
import os
import statistics


def card(run_dir, name):
    """The card of run `name` in run_dir, or None if the run has not finished."""
    path = os.path.join(run_dir, name + ".json")
    return json.load(open(path)) if os.path.exists(path) else None


def held_out(c):
    """(regret, se) of the checkpoint a card keeps, on its validation functions; None without a card."""
    return (c["validation"]["regret"], c["validation"]["regret_sem"]) if c else None


def history(c):
    """[(update, validation regret)] over the run."""
    return [(h["iteration"], h["regret"]) for h in c["validation"]["history"]]


def last10(c):
    """The score of the rules: the mean of a run's last 10 validations."""
    return statistics.mean(r for _, r in history(c)[-10:])


def ships(last, reference, se, old=None):
    """The rule fixed before each set of runs: the candidate's last 10 is below the reference by more than the se,
    and, where old = (default, kept checkpoint) gives both as held_out() pairs on the earlier prior, the kept
    checkpoint is not worse there than the default by more than the default's se."""
    if not last < reference - se:
        return False
    if old is None:
        return True
    old_default, old_kept = old
    return old_default is not None and old_kept is not None and old_kept[0] <= old_default[0] + old_default[1]
