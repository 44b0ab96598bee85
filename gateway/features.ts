// The features a production gateway runs, wired to each other (STYLE.md §4: one
// composition root). Each is built and tested alone; only here do they meet.
import type { Feature } from './feature.ts';
import { LocksFeature } from './locks/locks-feature.ts';
import { ApiFeature } from './http/api-feature.ts';
import { CheckinFeature, type CheckinFeatureOptions } from './checkin/checkin-feature.ts';
import { SmokeFeature } from './smoke/smoke-feature.ts';
import { ConsoleFeature } from './console/console-feature.ts';

/** The desk whose reads and badge swipes the console shows by default. */
const CONSOLE_DESK = 'desk-1';

export type Features = { all: Feature[]; locks: LocksFeature; api: ApiFeature; checkin: CheckinFeature; smoke: SmokeFeature; console: ConsoleFeature };

export function defaultFeatures(opts: Pick<CheckinFeatureOptions, 'transportFor'> = {}): Features {
  const locks = new LocksFeature();
  let checkin: CheckinFeature | undefined;
  let smoke: SmokeFeature | undefined;
  const api = new ApiFeature({
    deviceHealth: (id) => smoke!.deviceHealth(id),
    occupancy: (unit) => checkin!.occupants(unit),
    unitState: (unit) => ({ liveCodes: locks.liveCodes(unit), unsafe: smoke!.unitUnsafe(unit) }),
    alarms: () => smoke!.alarms(),
    badgeAtDesk: (desk) => checkin!.badgeLogin(desk ?? CONSOLE_DESK),
  });
  checkin = new CheckinFeature({
    locks,
    staff: { known: (id) => api.staff.isActive(id), byBadge: (digits) => api.staff.findByBadge(digits) },
    ...opts,
  });
  smoke = new SmokeFeature({ occupants: (unit) => checkin!.occupants(unit) });
  const desk = new ConsoleFeature({ smoke, reads: checkin.reads, desk: CONSOLE_DESK });
  return { all: [locks, api, checkin, smoke, desk], locks, api, checkin, smoke, console: desk };
}
