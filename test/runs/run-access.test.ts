import { NotFoundError } from '../../src/errors';
import type { Identity } from '../../src/runs/identity';
import { canAccessRun, requireRunAccess } from '../../src/runs/run-access';
import { newRunId } from '../../src/ledger/run-ledger';

const owner: Identity = { subject: 'google:1', email: 'a@example.com', via: 'google', isAdmin: false };
const stranger: Identity = { subject: 'google:2', email: 'b@example.com', via: 'google', isAdmin: false };
const admin: Identity = { subject: 'google:3', email: 'boss@example.com', via: 'google', isAdmin: true };
const run = { id: 'run_x', ownerSubject: 'google:1' };

describe('run isolation', () => {
  it('the owner and admins may access a run; anyone else may not', () => {
    expect(canAccessRun(owner, run.ownerSubject)).toBe(true);
    expect(canAccessRun(admin, run.ownerSubject)).toBe(true);
    expect(canAccessRun(stranger, run.ownerSubject)).toBe(false);
    expect(canAccessRun({ ...owner, subject: 'secret:google:1' }, run.ownerSubject)).toBe(false);
  });
  it("another tenant's run and a missing run fail with the same 404, so ids cannot be probed", () => {
    const denied = (() => {
      try {
        requireRunAccess(stranger, run);
      } catch (e) {
        return e;
      }
    })() as NotFoundError;
    const missing = (() => {
      try {
        requireRunAccess(owner, undefined);
      } catch (e) {
        return e;
      }
    })() as NotFoundError;
    expect(denied).toBeInstanceOf(NotFoundError);
    expect(denied.status).toBe(404);
    expect({ code: denied.code, message: denied.message }).toEqual({ code: missing.code, message: missing.message });
    expect(requireRunAccess(owner, run)).toBe(run);
  });
  it('run ids carry 128 random bits and do not repeat, so they cannot be probed', () => {
    const ids = new Set(Array.from({ length: 2000 }, () => newRunId()));
    expect(ids.size).toBe(2000);
    for (const id of [...ids].slice(0, 5)) expect(id).toMatch(/^run_[A-Za-z0-9_-]{22}$/);
  });
});
