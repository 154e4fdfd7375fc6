"""Operations on the platform from chat: runbook runs, offers of mutating actions (the operator-only,
once-only, audited click), following a rollout, and the report render functions."""
