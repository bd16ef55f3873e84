/** The supervisor's actuator for tests: records every ESTOP and RESET; RESETs are acknowledged at
 * once with `ackResult`. */
import { AckResult, type AckMsg } from '../../../proto/wire/index.js';
import type { SafetyActuator } from '../safety-types.js';

export class RecordingActuator implements SafetyActuator {
  estops: { category: number; source: number; reason: number }[] = [];
  resets: number[] = [];
  ackResult: number = AckResult.OK;
  sendEstop(category: number, source: number, reason: number): boolean {
    this.estops.push({ category, source, reason });
    return true;
  }
  sendReset(what: number, token: number): Promise<AckMsg> {
    this.resets.push(what);
    return Promise.resolve({ ackedType: 6, result: this.ackResult, ackedSeq: 0, detail: token } as unknown as AckMsg);
  }
}
