import {
	NodeConnectionTypes,
	NodeOperationError,
	type CronExpression,
	type INodeExecutionData,
	type INodeType,
	type INodeTypeDescription,
	type ITriggerFunctions,
	type ITriggerResponse,
} from 'n8n-workflow';
import { DEFAULT_CHANGELOG_DAYS, DEFAULT_SEND_LOG_DAYS, DEFAULT_STALE_AFTER_DAYS, describe } from '../core';
import { toJson } from '../shared/items';
import { getStore, pushTokenStoreConnectionTest } from '../shared/store';

/** n8n schedules with six fields (seconds first); a classic five-field cron runs at second 0. */
export function toCronExpression(text: string): CronExpression | null {
	const fields = String(text).trim().split(/\s+/);
	if (fields.length !== 5 && fields.length !== 6) return null;
	// Numbers, ranges, steps, lists, month and day names, and the ? L W # of cron dialects: nothing else.
	if (!fields.every((f) => /^[\w*/,?#-]+$/.test(f))) return null;
	return (fields.length === 5 ? `0 ${fields.join(' ')}` : fields.join(' ')) as CronExpression;
}

/**
 * The monthly clean-up (Braze's rule for imported tokens): deletes temporary imported profiles
 * that hold no token any more, keeps those that do, and optionally prunes devices not seen for
 * N days. Emits a summary, and on request one item per deleted profile.
 */
export class PushTokenCleanupTrigger implements INodeType {
	description: INodeTypeDescription = {
		displayName: 'Push Token Cleanup Trigger',
		name: 'pushTokenCleanupTrigger',
		icon: { light: 'file:pushTokenCleanupTrigger.svg', dark: 'file:pushTokenCleanupTrigger.dark.svg' },
		group: ['trigger', 'schedule'],
		version: 1,
		subtitle: '={{$parameter["cronExpression"]}}',
		description: 'Clean the push token store on a schedule (monthly by default)',
		eventTriggerDescription: '',
		defaults: { name: 'Push Token Cleanup Trigger' },
		inputs: [],
		outputs: [NodeConnectionTypes.Main],
		credentials: [{ name: 'pushTokenStoreApi', required: true, testedBy: 'pushTokenStoreConnectionTest' }],
		properties: [
			{
				displayName: 'Cron Expression',
				name: 'cronExpression',
				type: 'string',
				default: '0 3 1 * *',
				description: 'When to run, as a cron expression (5 fields, or 6 with seconds first). Default: 03:00 on the 1st of every month.',
			},
			{
				displayName: 'Prune Stale Devices',
				name: 'pruneStale',
				type: 'boolean',
				default: false,
				description: 'Whether to remove devices not seen (no app open, no import) for a number of days',
			},
			{
				displayName: 'Stale After (Days)',
				name: 'staleAfterDays',
				type: 'number',
				typeOptions: { minValue: 1 },
				default: DEFAULT_STALE_AFTER_DAYS,
				description: "FCM treats tokens inactive for 270 days as expired; that is the default",
				displayOptions: { show: { pruneStale: [true] } },
			},
			{
				displayName: 'Send Log Retention (Days)',
				name: 'sendLogDays',
				type: 'number',
				typeOptions: { minValue: 0 },
				default: DEFAULT_SEND_LOG_DAYS,
				description: 'Forget which devices a send ID reached after this many days: a rerun of an older send ID pushes again. 0 keeps them forever.',
			},
			{
				displayName: 'Changelog Retention (Days)',
				name: 'changelogDays',
				type: 'number',
				typeOptions: { minValue: 0 },
				default: DEFAULT_CHANGELOG_DAYS,
				description: 'Delete changelog rows older than this many days; 0 keeps them forever. Dead tokens stay refused either way.',
			},
			{
				displayName: 'Emit Deleted Profiles',
				name: 'emitDeletedProfiles',
				type: 'boolean',
				default: false,
				description: 'Whether to emit one item per deleted profile after the summary (up to the report limit)',
			},
			{
				displayName: 'Report Limit',
				name: 'reportLimit',
				type: 'number',
				typeOptions: { minValue: 0 },
				default: 1000,
				description: 'How many deleted profile IDs to list; the counts are always complete',
			},
		],
	};

	methods = { credentialTest: { pushTokenStoreConnectionTest } };

	async trigger(this: ITriggerFunctions): Promise<ITriggerResponse> {
		const text = this.getNodeParameter('cronExpression') as string;
		const expression = toCronExpression(text);
		if (!expression) {
			throw new NodeOperationError(this.getNode(), `Cron Expression ${describe(text)} is not a cron expression: expected 5 fields (or 6 with seconds first)`);
		}
		const runCleanup = async () => {
			const store = await getStore(this);
			const report = await store.cleanup({
				staleAfterDays: this.getNodeParameter('pruneStale', false) ? (this.getNodeParameter('staleAfterDays') as number) : undefined,
				reportLimit: this.getNodeParameter('reportLimit', 1000) as number,
				sendLogDays: this.getNodeParameter('sendLogDays', DEFAULT_SEND_LOG_DAYS) as number,
				changelogDays: this.getNodeParameter('changelogDays', DEFAULT_CHANGELOG_DAYS) as number,
			});
			const items: INodeExecutionData[] = [{ json: { type: 'summary', ...toJson(report) } }];
			if (this.getNodeParameter('emitDeletedProfiles', false)) {
				for (const profileId of report.deletedProfileIds) items.push({ json: { type: 'deletedProfile', profileId } });
			}
			this.emit([items]);
		};

		this.helpers.registerCron({ expression }, () => {
			runCleanup().catch((error: Error) => this.emitError(error));
		});
		return { manualTriggerFunction: runCleanup };
	}
}
