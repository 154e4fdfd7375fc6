"""Operations on infrastructure (Kubernetes, AWS); typed results, no Slack."""
