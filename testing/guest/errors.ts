// Named errors of the guest harness, each with a code a caller (or a test report) can act on.

export class GuestUnavailableError extends Error {
  readonly code = 'EGUESTUNAVAILABLE';
  constructor(message: string) {
    super(message);
    this.name = 'GuestUnavailableError';
  }
}

export class GuestBuildError extends Error {
  readonly code = 'EGUESTBUILD';
  constructor(message: string) {
    super(message);
    this.name = 'GuestBuildError';
  }
}

export class GuestRunError extends Error {
  readonly code: 'EGUESTTIMEOUT' | 'EGUESTCRASH';
  /** The tail of the serial console, to see what the guest did last. */
  readonly consoleTail: string;
  constructor(code: 'EGUESTTIMEOUT' | 'EGUESTCRASH', message: string, consoleText: string) {
    super(`${message}\n--- guest console (tail) ---\n${consoleText.slice(-4000)}`);
    this.name = 'GuestRunError';
    this.code = code;
    this.consoleTail = consoleText.slice(-4000);
  }
}
