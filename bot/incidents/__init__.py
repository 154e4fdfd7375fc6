"""The incident domain: model, pure state machine, response deadlines and the Redis store."""
