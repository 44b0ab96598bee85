// unit.suspend and unit.resume (PROTOCOL.md §2.2; CHECKIN.md: a suspended unit takes no
// check-in and no new code, and its live codes are revoked at once, through `onSuspend`
// in the same transaction).
import type { CommandDispatcher } from './dispatcher.ts';
import { commandError } from './dispatcher.ts';
import type { UnitStore } from '../store/units.ts';
import type { Tx } from '../ingest/tx.ts';

export function registerUnitCommands(dispatcher: CommandDispatcher, units: UnitStore, onSuspend?: (tx: Tx, unit: string) => void): void {
  dispatcher.register('unit.suspend', (tx, cmd) => {
    const until = cmd.until === undefined ? null : Date.parse(cmd.until);
    if (!units.suspend(cmd.unit, cmd.reason, until)) return commandError('UNKNOWN_UNIT', `no unit ${cmd.unit}`);
    onSuspend?.(tx, cmd.unit);
    return { status: 'ok' };
  });
  dispatcher.register('unit.resume', (_tx, cmd) => {
    if (!units.resume(cmd.unit)) return commandError('UNKNOWN_UNIT', `no unit ${cmd.unit}`);
    return { status: 'ok' };
  });
}
