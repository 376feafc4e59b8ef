import type { GuestCase } from '../../native/guest/guest/types.js';

export const cases: GuestCase[] = [];
