import type { Knex } from 'knex';

const BEFORE = `'oauth-tokens', 'pkce-verifier', 'service-account', 'webhook-secret', 'app-private-key'`;

/**
 * SAML sign-in at connect (issue #13): two more kinds of envelope-encrypted secret. The IdP
 * metadata the admin supplied (XML or its URL) is kept like a credential so the worker, not the
 * API, parses and trusts it; a posted `SAMLResponse` is stored by the ACS route the moment its
 * RelayState is known, so the assertion (personal data) reaches the connect workflow as an id only
 * and never enters its history. The secrets table keeps its forced RLS; only the CHECK changes.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    ALTER TABLE secrets DROP CONSTRAINT secrets_kind_check;
    ALTER TABLE secrets ADD CONSTRAINT secrets_kind_check
      CHECK (kind IN (${BEFORE}, 'saml-idp-metadata', 'saml-response'));
  `);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw(`
    DELETE FROM secrets WHERE kind IN ('saml-idp-metadata', 'saml-response');
    ALTER TABLE secrets DROP CONSTRAINT secrets_kind_check;
    ALTER TABLE secrets ADD CONSTRAINT secrets_kind_check CHECK (kind IN (${BEFORE}));
  `);
}
