import {
	NodeConnectionTypes,
	NodeOperationError,
	type CronExpression,
	type INodeExecutionData,
	type INodeProperties,
	type INodeType,
	type INodeTypeDescription,
	type ITriggerFunctions,
	type ITriggerResponse,
} from 'n8n-workflow';
import { DEFAULT_CHANGELOG_DAYS, DEFAULT_SEND_LOG_DAYS, DEFAULT_STALE_AFTER_DAYS, describe } from '../core';
import { fromVersion2 } from '../shared/fields';
import { toJson } from '../shared/items';
import { getStore, storeNode } from '../shared/store';

/** n8n schedules with six fields (seconds first); a classic five-field cron runs at second 0. */
export function toCronExpression(text: string): CronExpression | null {
	const fields = String(text).trim().split(/\s+/);
	if (fields.length !== 5 && fields.length !== 6) return null;
	// Numbers, ranges, steps, lists, month and day names, and the ? L W # of cron dialects: nothing else.
	if (!fields.every((f) => /^[\w*/,?#-]+$/.test(f))) return null;
	return (fields.length === 5 ? `0 ${fields.join(' ')}` : fields.join(' ')) as CronExpression;
}

/** When the clean-up runs: n8n's usual choices, or a cron expression. */
const run: INodeProperties = {
	displayName: 'Run',
	name: 'schedule',
	type: 'options',
	options: [
		{ name: 'Custom (Cron)', value: 'custom' },
		{ name: 'Every Day', value: 'daily' },
		{ name: 'Every Month', value: 'monthly' },
		{ name: 'Every Week', value: 'weekly' },
	],
	default: 'monthly',
};

/** The schedule as cron. */
function scheduleOf(context: ITriggerFunctions): string {
	const schedule = context.getNodeParameter('schedule', 'custom') as string;
	if (schedule === 'custom') return context.getNodeParameter('cronExpression') as string;
	const hour = context.getNodeParameter('hour', 3) as number;
	if (schedule === 'daily') return `0 ${hour} * * *`;
	if (schedule === 'weekly') return `0 ${hour} * * ${context.getNodeParameter('weekday', 1) as number}`;
	return `0 ${hour} ${context.getNodeParameter('dayOfMonth', 1) as number} * *`;
}

const header = storeNode();

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
		version: [1, 2],
		subtitle: '={{ { monthly: "Every month", weekly: "Every week", daily: "Every day" }[$parameter["schedule"]] ?? $parameter["cronExpression"] }}',
		description: 'Clean the push token store on a schedule (monthly by default)',
		eventTriggerDescription: '',
		defaults: { name: 'Push Token Cleanup Trigger' },
		inputs: [],
		outputs: [NodeConnectionTypes.Main],
		credentials: header.credentials,
		properties: [
			// Version 1 had the Cron Expression only: its saved workflows keep it by that default.
			{ ...run, default: 'custom', displayOptions: { show: { '@version': [1] } } },
			{ ...run, displayOptions: { show: fromVersion2 } },
			{
				displayName: 'Day of Month',
				name: 'dayOfMonth',
				type: 'number',
				typeOptions: { minValue: 1, maxValue: 28 },
				default: 1,
				description: 'Up to the 28th, so that every month has it',
				displayOptions: { show: { schedule: ['monthly'] } },
			},
			{
				displayName: 'Weekday',
				name: 'weekday',
				type: 'options',
				// Monday first, as people read a week; cron counts from Sunday (0)
				options: [
					{ name: 'Monday', value: 1 },
					{ name: 'Tuesday', value: 2 },
					{ name: 'Wednesday', value: 3 },
					{ name: 'Thursday', value: 4 },
					{ name: 'Friday', value: 5 },
					{ name: 'Saturday', value: 6 },
					{ name: 'Sunday', value: 0 },
				],
				default: 1,
				displayOptions: { show: { schedule: ['weekly'] } },
			},
			{
				displayName: 'Hour',
				name: 'hour',
				type: 'number',
				typeOptions: { minValue: 0, maxValue: 23 },
				default: 3,
				description: "The hour of the day, in the instance's timezone",
				displayOptions: { show: { schedule: ['monthly', 'weekly', 'daily'] } },
			},
			{
				displayName: 'Cron Expression',
				name: 'cronExpression',
				type: 'string',
				default: '0 3 1 * *',
				description: 'When to run, as a cron expression (5 fields, or 6 with seconds first). Default: 03:00 on the 1st of every month.',
				displayOptions: { show: { schedule: ['custom'] } },
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

	methods = header.methods;

	async trigger(this: ITriggerFunctions): Promise<ITriggerResponse> {
		const text = scheduleOf(this);
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
