"""``promptd eval``: does a rewrite work better? A/B evaluation on sample inputs.

* :mod:`.samples`: the JSONL inputs file and filling a prompt's placeholders;
* :mod:`.tally`: verdicts from the judge's two orders, the score and its Wilson interval;
* :mod:`.asks`: the judge's and the input drafter's requests and answers;
* :mod:`.runner`: one evaluation on the daemon's LLM engine (:class:`~.runner.EvalRun`);
* :mod:`.service`: ``eval.estimate`` / ``eval.run`` on the control API;
* :mod:`.types`: their params and results (light: the CLI imports them).
"""

from __future__ import annotations
