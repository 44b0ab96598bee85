// The refusals issue 4 names explicitly, over the real paths: face terminals as DeskSims
// on MQTT (PROTOCOL.md §1.5), the HTTP API over a socket, and the FakeClock for the
// 120 s read age (CHECKIN.md rule 1). A verify counts only for its own read, from the
// desk the read was sent to, and a read makes at most one stay.
import { describe, expect, it, vi } from 'vitest';
import { DESK, LI_SI, UNIT, WANG_WU, ZHANG_SAN, sceneEachTest, type Scene } from '../helpers/checkin-setup.ts';

const fresh = sceneEachTest();

const stays = (s: Scene) => s.gw.db.prepare('SELECT stay_id FROM stays').all() as Array<{ stay_id: string }>;
const verified = (s: Scene, readId: string) => vi.waitFor(() => expect(s.f.checkin.reads.latestVerify(readId)).toBeDefined(), { timeout: 5_000 });

describe('the card read must be fresh (CHECKIN.md rule 1, policy.readMaxAgeS 120)', () => {
  it('accepts a read exactly 120 s old and refuses one 1 ms older with READ_STALE', async () => {
    const s = await fresh();
    const old = s.verifiedRead(WANG_WU);
    const older = s.verifiedRead(LI_SI);
    s.clock.advance(120_000);
    expect((await s.walkIn(old)).status).toBe(201);
    s.clock.advance(1);
    const res = await s.walkIn(older);
    expect(res).toMatchObject({ status: 422, body: { reason: 'READ_STALE' } });
    expect(s.events('security/checkin_refused').map((e) => e.data)).toEqual([{ reason: 'READ_STALE', unit: UNIT, idNumber: '320402********1235' }]);
  });
});

describe('the face result must belong to the read (PROTOCOL.md §1.5)', () => {
  it('a score the desk terminal sent for another read does not verify this one', async () => {
    const s = await fresh();
    // Both cards go to desk-1 before its terminal is online, so it verifies only on demand.
    const mine = s.read(WANG_WU);
    const other = s.read(LI_SI);
    const desk = await s.deskSim(DESK, { score: 0.97 });
    await desk.verify(other);
    await verified(s, other);
    expect(s.f.checkin.reads.latestVerify(mine)).toBeUndefined();
    expect(await s.walkIn(mine)).toMatchObject({ status: 422, body: { reason: 'VERIFICATION_MISSING' } });
    expect((await s.walkIn(other)).status).toBe(201);
  });

  it('a verify from desk-2 for a desk-1 read is ignored: VERIFICATION_MISSING until desk-1 answers', async () => {
    const s = await fresh();
    const readId = s.read(WANG_WU);
    const desk2 = await s.deskSim('desk-2', { score: 0.99 });
    await desk2.verify(readId); // resolves on PUBACK, which the gateway sends after its commit
    expect(s.f.checkin.reads.latestVerify(readId)).toBeUndefined();
    expect(await s.walkIn(readId)).toMatchObject({ status: 422, body: { reason: 'VERIFICATION_MISSING' } });
    expect(s.liveCodeIds()).toEqual([]);

    const desk1 = await s.deskSim(DESK, { score: 0.93 });
    await desk1.verify(readId);
    await verified(s, readId);
    expect(s.f.checkin.reads.latestVerify(readId)).toMatchObject({ desk: DESK, score: 0.93 });
    expect((await s.walkIn(readId)).status).toBe(201);
  });

  it('the latest verify decides: a good score followed by a mismatch is FACE_MISMATCH', async () => {
    const s = await fresh();
    const desk = await s.deskSim(DESK, { score: 0.95 });
    const readId = s.read(WANG_WU);
    await vi.waitFor(() => expect(desk.cards.map((c) => c.readId)).toContain(readId));
    await verified(s, readId);
    await desk.verify(readId, 0.41, true);
    expect(s.f.checkin.reads.latestVerify(readId)?.score).toBe(0.41);
    expect(await s.walkIn(readId)).toMatchObject({ status: 422, body: { reason: 'FACE_MISMATCH' } });
  });

  it('the terminal gets the card on menwei/desk/D/card, and its liveness failure refuses the check-in', async () => {
    const s = await fresh();
    const desk = await s.deskSim(DESK, { score: 0.96, liveness: false });
    const readId = s.read(ZHANG_SAN);
    await verified(s, readId);
    expect(desk.cards).toEqual([{ readId, name: '张三' }]);
    expect(await s.walkIn(readId)).toMatchObject({ status: 422, body: { reason: 'LIVENESS_FAILED' } });
  });
});

describe('a double click makes one stay (CHECKIN.md rule 1)', () => {
  it('two simultaneous POSTs of one read give one 201 and one READ_USED, one stay and one set of codes', async () => {
    const s = await fresh();
    const readId = s.verifiedRead(WANG_WU);
    const [a, b] = await Promise.all([s.walkIn(readId), s.walkIn(readId)]);
    const statuses = [a!.status, b!.status].sort();
    expect(statuses).toEqual([201, 422]);
    const refused = a!.status === 422 ? a! : b!;
    const accepted = a!.status === 201 ? a! : b!;
    expect(refused.body.reason).toBe('READ_USED');
    expect(await s.walkIn(readId)).toMatchObject({ status: 422, body: { reason: 'READ_USED' } });

    expect(stays(s).map((r) => r.stay_id)).toEqual([accepted.body.stayId]);
    expect(s.liveCodeIds()).toEqual(accepted.body.codes.map((c: { codeId: string }) => c.codeId));
    expect(s.events('registration/checkin')).toHaveLength(1);
    expect(s.events('audit/code_issued')).toHaveLength(1);
    expect(s.events('security/checkin_refused').map((e) => e.data.reason)).toEqual(['READ_USED', 'READ_USED']);
  });

  it('a second read of the same person after the stay is made is ALREADY_CHECKED_IN, not a second stay', async () => {
    const s = await fresh();
    expect((await s.walkIn(s.verifiedRead(WANG_WU))).status).toBe(201);
    expect(await s.walkIn(s.verifiedRead(WANG_WU))).toMatchObject({ status: 422, body: { reason: 'ALREADY_CHECKED_IN' } });
    expect(stays(s)).toHaveLength(1);
    expect(s.liveCodeIds()).toHaveLength(1);
  });
});
