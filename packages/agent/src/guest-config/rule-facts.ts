// What the engine needs to know about the server to judge each kind of rule, gathered at the
// edge (system-facts.ts) and judged by pure functions, so every judgement is testable from data.

export type FileFacts =
  | { readonly exists: false }
  | {
      readonly exists: true;
      readonly type: 'file' | 'directory' | 'other';
      readonly uid: number;
      readonly gid: number;
      /** Permission bits only (st_mode & 07777). */
      readonly mode: number;
      /** Names from etc/passwd and etc/group; undefined when the id has no entry. */
      readonly user: string | undefined;
      readonly group: string | undefined;
      readonly links: number;
    };

/** One line of a config file, in the order the program reading it would see it. */
export interface ConfigLine {
  readonly file: string;
  /** 1-based line number within `file`. */
  readonly line: number;
  readonly text: string;
}

export type ConfigFacts =
  { readonly exists: false } | { readonly exists: true; readonly lines: readonly ConfigLine[] };

export interface SystemdUnitFacts {
  /** Unit files found for the unit, in systemd's search order. */
  readonly unitFiles: readonly string[];
  /** A link to /dev/null in etc/systemd/system. */
  readonly masked: boolean;
  /** `*.wants`/`*.requires` folders holding a link to the unit. */
  readonly wantedBy: readonly string[];
}

export type CommandOutcome =
  | { readonly outcome: 'exited'; readonly exitCode: number; readonly output: string }
  | { readonly outcome: 'timedOut'; readonly seconds: number; readonly output: string }
  | { readonly outcome: 'refused'; readonly reason: string };

/** Text of a file, or undefined when it does not exist or cannot be read. */
export type FileText = string | undefined;

export type RuleFacts =
  | { readonly kind: 'file'; readonly file: FileFacts }
  | { readonly kind: 'configKey'; readonly config: ConfigFacts }
  | { readonly kind: 'kernelParameter'; readonly value: FileText }
  | { readonly kind: 'package'; readonly installed: ReadonlySet<string> | undefined }
  | {
      readonly kind: 'accounts';
      readonly passwd: FileText;
      readonly shadow: FileText;
      readonly loginDefs: FileText;
    }
  | { readonly kind: 'systemdUnit'; readonly unit: SystemdUnitFacts }
  | { readonly kind: 'command'; readonly result: CommandOutcome };
