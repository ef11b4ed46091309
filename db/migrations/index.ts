import type { Knex } from 'knex';
import * as m0001 from './0001_foundation';
import * as m0002 from './0002_data_tier';
import * as m0003 from './0003_app_webhook_routing';
import * as m0004 from './0004_audit_append';
import * as m0005 from './0005_webhook_catch_up';
import * as m0006 from './0006_shared_rate_limits';
import * as m0007 from './0007_definer_hardening';
import * as m0008 from './0008_app_installation_bindings';
import * as m0009 from './0009_consent_initiator';
import * as m0010 from './0010_operator_audit';
import * as m0011 from './0011_kek_rotation';
import * as m0014 from './0014_saml_assertion_ids';
import * as m0016 from './0016_vendor_budgets';
import * as m0017 from './0017_sync_round_pages';
import * as m0018 from './0018_saml_secret_kinds';
import * as m0020 from './0020_id_sweep';
import * as m0027 from './0027_sync_round_completed_by';

/** Every migration, in order. A new migration is added here as well as in its own file. */
export const migrations: Record<string, Knex.Migration> = {
  '0001_foundation': m0001,
  '0002_data_tier': m0002,
  '0003_app_webhook_routing': m0003,
  '0004_audit_append': m0004,
  '0005_webhook_catch_up': m0005,
  '0006_shared_rate_limits': m0006,
  '0007_definer_hardening': m0007,
  '0008_app_installation_bindings': m0008,
  '0009_consent_initiator': m0009,
  '0010_operator_audit': m0010,
  '0011_kek_rotation': m0011,
  '0014_saml_assertion_ids': m0014,
  '0016_vendor_budgets': m0016,
  '0017_sync_round_pages': m0017,
  '0018_saml_secret_kinds': m0018,
  '0020_id_sweep': m0020,
  '0027_sync_round_completed_by': m0027,
};
