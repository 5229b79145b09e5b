-- FerretDB v1.24 on PostgreSQL pushes a top-level equality filter down to SQL as
--   _jsonb->'field' @> '"value"'
-- but turns each MongoDB index into a B-tree on (_jsonb->'field'), which PostgreSQL cannot use
-- for @>: every filtered query reads the whole table. This event trigger gives every index
-- FerretDB creates a GIN twin (jsonb_path_ops, which serves @>) on each top-level field of it,
-- so an equality on an indexed field is an index lookup and stays flat as collections grow.
-- Installed at every start by scripts/lib/processes.ts (idempotent); FerretDB knows nothing of
-- the twins, and PostgreSQL drops them with their table.
CREATE OR REPLACE FUNCTION relais_gin_twins() RETURNS event_trigger LANGUAGE plpgsql AS $$
DECLARE
  cmd record;
  def text;
  field text;
  twin text;
  tbl text;
BEGIN
  FOR cmd IN SELECT * FROM pg_event_trigger_ddl_commands() WHERE command_tag = 'CREATE INDEX' LOOP
    def := pg_get_indexdef(cmd.objid);
    CONTINUE WHEN def ~ ' USING gin ';
    -- Top-level fields only: FerretDB pushes no dotted path down by default.
    FOR field IN SELECT (regexp_matches(def, '\(_jsonb -> ''([^'']+)''::text\)(?! ->)', 'g'))[1] LOOP
      SELECT indrelid::regclass::text INTO tbl FROM pg_index WHERE indexrelid = cmd.objid;
      twin := 'relais_gin_' || left(md5(tbl || '.' || field), 24);
      EXECUTE format('CREATE INDEX IF NOT EXISTS %I ON %s USING gin ((_jsonb -> %L) jsonb_path_ops)', twin, tbl, field);
    END LOOP;
    -- A non-unique B-tree serves no query FerretDB sends (it compares with @> and sorts in its
    -- own memory), and on an array field (a dispatch's recipient addresses) a long array
    -- overflows its 2704-byte row limit and the insert is refused: the GIN twins replace it.
    -- Unique ones stay: they enforce uniqueness (_id, tenantId + dispatchId …).
    IF NOT (SELECT indisunique FROM pg_index WHERE indexrelid = cmd.objid) THEN
      EXECUTE format('DROP INDEX %s', cmd.objid::regclass);
    END IF;
  END LOOP;
END $$;
DROP EVENT TRIGGER IF EXISTS relais_gin_twins;
CREATE EVENT TRIGGER relais_gin_twins ON ddl_command_end WHEN TAG IN ('CREATE INDEX') EXECUTE FUNCTION relais_gin_twins();

-- FerretDB sends its filters as prepared statements with the field as a parameter
-- (_jsonb->$1 @> $2). After five runs PostgreSQL may switch to a generic plan, which cannot match
-- an index on _jsonb->'field' and scans the table (measured: a read by key went from 20 ms to
-- 1 s at 10,000 dispatches). Planning each run with its values keeps the index.
DO $$ BEGIN
  EXECUTE format('ALTER DATABASE %I SET plan_cache_mode = force_custom_plan', current_database());
END $$;
