/** Web Push (RFC 8030) answers by HTTP status alone (../provider byStatus): it has no codes of its own. */
import { answerTable } from '../provider';

export const webPushAnswers = answerTable({});
