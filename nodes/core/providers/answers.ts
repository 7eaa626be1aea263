/**
 * An answer from anywhere (Send Push's output, a provider's webhook, a status callback) turned into
 * one outcome: delivered | invalid-token (remove + tombstone) | bounced | retry | config-error
 * (fail, keep tokens). Each provider's codes are in its own table (<id>/answers.ts); here are what
 * no single provider owns: the outcome names, webhook events and HTTP statuses.
 */
import { OUTCOMES, type Outcome } from '../types';
import { isProvider, PROVIDERS, providerModule } from './index';
import { answerTable, byStatus } from './provider';

export interface ProviderAnswer {
	provider?: string;
	/** An error code or reason (e.g. UNREGISTERED, messaging/registration-token-not-registered, BadDeviceToken), an outcome, or an event (uninstall). */
	code?: string | null;
	statusCode?: number | null;
	/** The provider's message; FCM's INVALID_ARGUMENT names a dead token only in its message. */
	message?: string | null;
}

export interface Classification {
	outcome: Outcome | null;
	/** Why, in words that name the provider's own code. */
	reason: string;
}

/** Events a webhook may report about a token, whatever the provider. */
const EVENTS = answerTable({
	delivered: ['delivered', 'sent', 'success'],
	'invalid-token': ['uninstall', 'uninstalled', 'unregistered', 'token-expired'],
	bounced: ['bounce', 'bounced'],
});

export function classifyAnswer(answer: ProviderAnswer): Classification {
	// A three-digit code is an HTTP status (Web Push answers by status only; Send Push writes it as the code).
	const status = /^\d{3}$/.test(answer.code?.trim() ?? '') ? Number(answer.code) : undefined;
	if (status !== undefined) return classifyAnswer({ ...answer, code: undefined, statusCode: status });
	const code = answer.code?.trim() ?? '';
	const provider = String(answer.provider ?? '').toLowerCase();
	const lower = code.toLowerCase();

	if ((OUTCOMES as readonly string[]).includes(lower)) return { outcome: lower as Outcome, reason: code };
	const event = EVENTS.outcome(code, undefined);
	if (event) return event;

	if (code && provider) {
		const known = isProvider(provider) ? providerModule(provider).answers.outcome(code, answer.message ?? undefined) : null;
		if (known) return known;
	} else if (code) {
		// No provider named: the first table that knows the code.
		for (const id of PROVIDERS) {
			const outcome = providerModule(id).answers.known(code);
			if (outcome) return { outcome, reason: code };
		}
	}
	if (answer.statusCode) {
		const outcome = byStatus(answer.statusCode);
		if (outcome) return { outcome, reason: code ? `${code} (HTTP ${answer.statusCode})` : `HTTP ${answer.statusCode}` };
	}
	return { outcome: null, reason: code || answer.statusCode ? `unknown answer ${code || `HTTP ${answer.statusCode}`}${provider ? ` from ${provider}` : ''}` : 'no answer given' };
}
