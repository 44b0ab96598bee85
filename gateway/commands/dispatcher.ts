// Platform commands (PROTOCOL.md §2.2): validated, applied at most once per commandId,
// answered through the outbox as a `reply` event. The forwarder PUBACKs a command only
// after this resolves, that is after the effect and its reply are committed.
import type { Command, CommandError, CommandName } from '../../protocol/commands.ts';
import { validateCommand } from '../../protocol/validate.ts';
import type { ReplyData } from '../../protocol/upstream.ts';
import type { Db } from '../store/db.ts';
import type { Logger } from '../logger.ts';
import type { Tx } from '../ingest/tx.ts';
import { sha256 } from '../crypto.ts';
import { isStorageFailure } from '../ingest/group-commit.ts';

export type CommandOutcome = { status: 'ok' } | { status: 'error'; error: { code: CommandError; message: string } };
export type CommandHandler<N extends CommandName = CommandName> = (tx: Tx, command: Command<N>) => CommandOutcome;

export const commandError = (code: CommandError, message: string): CommandOutcome => ({ status: 'error', error: { code, message } });

const DAY_MS = 86_400_000;

export class CommandDispatcher {
  private readonly handlers = new Map<CommandName, CommandHandler>();
  private readonly findStmt;
  private readonly saveStmt;
  private readonly purgeStmt;
  applied = 0;
  /** Answers by outcome, and commands without a readable commandId (gateway/bad_command), for /metrics; counted once committed. */
  readonly outcomes = { ok: 0, error: 0, bad_command: 0 };

  constructor(private readonly db: Db, private readonly opts: { retentionDays: number; logger: Logger }) {
    this.findStmt = db.prepare<[string], { digest: Buffer; reply: string; name: string }>(
      'SELECT digest, reply, name FROM commands WHERE command_id = ?',
    );
    this.saveStmt = db.prepare('INSERT INTO commands (command_id, name, digest, reply, keep_until) VALUES (?, ?, ?, ?, ?)');
    this.purgeStmt = db.prepare('DELETE FROM commands WHERE keep_until < ?');
  }

  register<N extends CommandName>(name: N, handler: CommandHandler<N>): void {
    this.handlers.set(name, handler as unknown as CommandHandler);
  }

  /** Runs inside a commit: validation, idempotency, the effect and the reply together. */
  apply(tx: Tx, topic: string, payload: Buffer): void {
    const checked = validateCommand(topic, payload);
    if (!checked.ok && checked.commandId === undefined) {
      this.opts.logger.warn({ topic, code: checked.error.code, field: checked.error.field }, 'bad command');
      tx.emitFlooded('platform', { class: 'gateway', type: 'bad_command', data: { reason: checked.error.reason, topic: topic.slice(0, 200) } });
      tx.after(() => this.outcomes.bad_command++);
      return;
    }
    const commandId = checked.ok ? checked.value.command.commandId : checked.commandId!;
    const name = checked.ok ? checked.value.name : (checked.name ?? topic.split('/').at(-1)!);
    const digest = sha256(payload);
    const seen = this.findStmt.get(commandId);
    if (seen) {
      // §2.2: a repeat gets the same reply again; another payload under the id is refused.
      const reply: ReplyData = seen.digest.equals(digest)
        ? JSON.parse(seen.reply)
        : { commandId, status: 'error', error: { code: 'COMMAND_ID_REUSED', message: 'commandId already used for another command' } };
      return this.reply(tx, name, reply);
    }
    const outcome = checked.ok ? this.run(tx, checked.value.name, checked.value.command) : this.refusal(checked.error.reason, checked.error.message);
    const reply: ReplyData = { commandId, ...outcome };
    const expiresAt = checked.ok ? Date.parse(checked.value.command.expiresAt) : tx.now;
    // Remembered for commandIdDays, and at least until it expires (§2.2).
    this.saveStmt.run(commandId, name, digest, JSON.stringify(reply), Math.max(tx.now + this.opts.retentionDays * DAY_MS, expiresAt));
    this.reply(tx, name, reply);
  }

  purge(now: number): number {
    return this.purgeStmt.run(now).changes;
  }

  private run(tx: Tx, name: CommandName, command: Command): CommandOutcome {
    if (Date.parse(command.expiresAt) < tx.now) return commandError('COMMAND_EXPIRED', `expired at ${command.expiresAt}`);
    const handler = this.handlers.get(name);
    if (!handler) return commandError('UNSUPPORTED', `${name} is not supported by this gateway`);
    this.applied++;
    try {
      // A savepoint: a handler that fails leaves no half effect, and the command is
      // still answered instead of being redelivered for ever.
      return this.db.transaction(() => handler(tx, command))();
    } catch (err) {
      if (isStorageFailure(err)) throw err;
      this.opts.logger.error({ err, command: name }, 'command handler failed');
      return commandError('INVALID', 'the gateway could not apply this command');
    }
  }

  private refusal(reason: string, message: string): CommandOutcome {
    return commandError(reason === 'TOPIC' ? 'UNSUPPORTED' : 'INVALID', message.slice(0, 200));
  }

  private reply(tx: Tx, name: string, data: ReplyData): void {
    tx.emit({ class: 'reply', type: name, data });
    tx.after(() => this.outcomes[data.status]++);
  }
}
