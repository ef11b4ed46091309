/**
 * The replay store of SAML sign-ins (db/migrations/0014_saml_assertion_ids.ts): an assertion id is
 * claimed once per workspace while the assertion could still be accepted. The claim is one INSERT
 * under the workspace's RLS binding, so two workers racing with the same assertion cannot both win.
 */
import crypto from 'node:crypto';
import type { Knex } from 'knex';
import { withWorkspace } from './workspaceScope';

export interface SamlAssertionClaims {
  /** True when the id was not claimed before in this workspace (it is claimed now); false for a replay. */
  claim(assertionId: string, expiresAt: Date): Promise<boolean>;
}

export function createSamlAssertionClaims(db: Knex, workspaceId: string, idpEntityId: string): SamlAssertionClaims {
  return {
    async claim(assertionId, expiresAt) {
      const assertionHash = crypto.createHash('sha256').update(`${idpEntityId}\n${assertionId}`).digest();
      return withWorkspace(db, workspaceId, async (trx) => {
        await trx('saml_assertion_ids').where('expires_at', '<=', trx.fn.now()).delete();
        const inserted = await trx('saml_assertion_ids')
          .insert({ workspace_id: workspaceId, assertion_hash: assertionHash, expires_at: expiresAt })
          .onConflict(['workspace_id', 'assertion_hash'])
          .ignore()
          .returning('assertion_hash');
        return inserted.length === 1;
      });
    },
  };
}
