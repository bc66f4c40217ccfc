-- Notifications as received, and the durable work queue the runner consumes.

CREATE TABLE notifications (
  id           text PRIMARY KEY,
  kind         text NOT NULL CHECK (kind IN ('problem', 'security')),
  -- PID for problems, SecurityProblemId for security problems.
  problem_id   text NOT NULL,
  -- ProblemID (P-…) when given.
  display_id   text,
  -- OPEN / RESOLVED / any string Dynatrace sent; NULL for security notifications.
  state        text,
  -- sha256 of kind, problem id, state and the canonical body: one row per distinct notification.
  dedupe_key   text NOT NULL UNIQUE,
  body         jsonb NOT NULL,
  received_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX notifications_problem_idx ON notifications (kind, problem_id, received_at);

CREATE TABLE jobs (
  id           bigserial PRIMARY KEY,
  queue        text NOT NULL,
  -- One job per (queue, key): enqueueing the same work twice is a no-op.
  key          text NOT NULL,
  payload      jsonb NOT NULL,
  state        text NOT NULL DEFAULT 'ready' CHECK (state IN ('ready', 'active', 'done', 'failed')),
  attempts     integer NOT NULL DEFAULT 0,
  run_after    timestamptz NOT NULL DEFAULT now(),
  lease_owner  text,
  lease_until  timestamptz,
  last_error   text,
  created_at   timestamptz NOT NULL DEFAULT now(),
  updated_at   timestamptz NOT NULL DEFAULT now(),
  UNIQUE (queue, key)
);
CREATE INDEX jobs_claim_idx ON jobs (queue, run_after) WHERE state IN ('ready', 'active');

-- Small values the service keeps for itself, such as the generated webhook token's hash.
CREATE TABLE settings (
  key          text PRIMARY KEY,
  value        text NOT NULL,
  created_at   timestamptz NOT NULL DEFAULT now()
);
