// Staff badge swipes (PROTOCOL.md §4; CHECKIN.md 10b and staff codes): the latest swipe
// of each staff member and its desk, on the monotonic clock (ARCHITECTURE.md invariant
// 6). In memory only: a restart forgets them, which only means swiping again.
export type BadgeSwipe = { staffId: string; desk: string; receivedMono: number };

export class BadgeSwipes {
  private readonly last = new Map<string, BadgeSwipe>();

  record(staffId: string, desk: string, receivedMono: number): void {
    this.last.set(staffId, { staffId, desk, receivedMono });
  }

  latest(staffId: string): BadgeSwipe | undefined {
    return this.last.get(staffId);
  }

  /**
   * Console login by badge (issue 7): the staff member who swiped at `desk` most recently,
   * within `windowMs`. The swipe is used up, so one swipe opens one session.
   */
  takeAtDesk(desk: string, nowMono: number, windowMs: number): string | undefined {
    let found: BadgeSwipe | undefined;
    for (const swipe of this.last.values()) {
      if (swipe.desk !== desk || nowMono - swipe.receivedMono > windowMs) continue;
      if (!found || swipe.receivedMono > found.receivedMono) found = swipe;
    }
    if (found) this.last.delete(found.staffId);
    return found?.staffId;
  }
}
