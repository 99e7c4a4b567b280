import type { Clock } from '../../platform/clock.js';
import { addDays, parisDayBounds, parisWallTimeToUtcMs } from '../../platform/clock.js';
import { AppError } from '../../platform/errors.js';
import { newId, newSecretToken, sha256Hex } from '../../platform/ids.js';
import type { Logger } from '../../platform/logger.js';
import type { ClassAttendanceSignal, ClassSessionSignal } from '../engagement/index.js';
import type { SchoolsService, Scope } from '../schools/index.js';
import type { TimetableRepository } from '../timetable/index.js';
import { canBeCoTeacher, canCreate, canModerate, canReadAttendance, roleIn } from './classroom.policy.js';
import type { ClassroomRepository, RoomRow } from './classroom.repository.js';
import { DEFAULT_DURATION_MS, GUEST_LINK_DEFAULT_HOURS, MAX_LISTED, MAX_PLAN_AHEAD_MS, type ClassroomMessage, type CreateBody } from './classroom.schema.js';
import type { RelayCall, RoomRelay } from './room.relay.js';
import type { ClassroomRuntime, RoomMeta } from './room.runtime.js';
import type { Attendance, Command, Role } from './room.state.js';

/** The engagement module's virtual-class port (its index): where sessions and pupils' attendance go. */
export interface ClassSignals {
  recordClassSession(s: ClassSessionSignal): Promise<void>;
  recordClassAttendance(a: ClassAttendanceSignal): Promise<void>;
}

/** Per-school caps; the per-node ones are the runtime's. */
export interface SchoolCaps {
  /** Rooms open at once in one school (counted in the database: every node sees the same count). */
  maxRoomsPerSchool: number;
}

export interface RoomAccess {
  room: RoomRow;
  role: Role | undefined;
}

/**
 * The classe virtuelle: rooms attached to a class or group (ad hoc or from a timetable lesson),
 * opened and closed by their teachers, joined over the realtime gateway; caps, guest links and
 * attendance. Live rooms are the runtime's (room.runtime.ts), on the node that hosts them.
 */
export class ClassroomService {
  private readonly pending = new Set<Promise<unknown>>();

  constructor(
    private readonly repo: ClassroomRepository,
    private readonly schools: SchoolsService,
    private readonly timetable: TimetableRepository,
    private readonly runtime: ClassroomRuntime,
    private readonly clock: Clock,
    private readonly logger: Logger,
    private readonly caps: SchoolCaps,
    private readonly nodeId: string,
    private readonly signals: ClassSignals | undefined,
    /** Several nodes (Redis): messages and teachers' actions for a room another node hosts are relayed there. */
    private readonly relay?: RoomRelay,
  ) {}

  async create(actor: Scope, body: CreateBody): Promise<RoomAccess> {
    const now = this.clock.nowMs();
    let audience: { kind: 'class' | 'group'; id: string };
    let startsAt = body.startsAt ?? now;
    let endsAt = startsAt + (body.durationMinutes ? body.durationMinutes * 60_000 : DEFAULT_DURATION_MS);
    let title = body.title;
    if (body.lessonId) {
      // A lesson of the actor's own timetable, within a fortnight around today.
      const lessons = await this.timetable.slots({ teacherId: actor.id }, now - 14 * 86_400_000, now + 14 * 86_400_000);
      const lesson = lessons.find((l) => l.id === body.lessonId);
      if (!lesson || (lesson.class_id === null) === (lesson.group_id === null)) throw new AppError('classroom.invalid_lesson');
      audience = lesson.class_id ? { kind: 'class', id: lesson.class_id } : { kind: 'group', id: lesson.group_id! };
      startsAt = lesson.starts_at;
      endsAt = lesson.ends_at;
      title ??= [lesson.subject_label, lesson.class_name ?? lesson.group_name].filter(Boolean).join(' — ') || 'Classe virtuelle';
    } else if (body.audience) {
      audience = body.audience;
    } else throw new AppError('classroom.invalid_audience');
    if (startsAt < now - 86_400_000 || startsAt > now + MAX_PLAN_AHEAD_MS) throw new AppError('request.invalid');
    const found = await this.repo.audience(audience.kind, audience.id);
    const ref = { school_id: found?.school_id ?? '', class_id: audience.kind === 'class' ? audience.id : null, group_id: audience.kind === 'group' ? audience.id : null };
    if (!found || !canCreate(actor, ref)) throw new AppError('classroom.invalid_audience');
    const co = body.coTeacherIds ?? [];
    for (const id of co) {
      const scope = id === actor.id ? undefined : await this.schools.scopeOf(id).catch(() => undefined);
      if (!scope || !canBeCoTeacher(scope, ref.school_id)) throw new AppError('classroom.invalid_audience');
    }
    const room: RoomRow = {
      id: newId(), school_id: ref.school_id, class_id: ref.class_id, group_id: ref.group_id, lesson_id: body.lessonId ?? null,
      title: (title ?? `Classe virtuelle — ${found.name}`).replace(/[\u0000-\u001f\u007f]/g, ' ').trim(), created_by: actor.id, starts_at: startsAt, ends_at: endsAt,
      status: 'scheduled', opened_at: null, closed_at: null, host_node: null, guests_allowed: body.guestsAllowed ? 1 : 0, guest_token_hash: null, guest_token_expires_at: null, created_at: now,
    };
    await this.repo.insert(room, [{ person_id: actor.id, role: 'teacher' }, ...co.map((person_id) => ({ person_id, role: 'co_teacher' as const }))]);
    return { room, role: 'teacher' };
  }

  /** "Mes classes virtuelles" of a Paris day (today by default): those of my classes and groups, those I teach, open ones. */
  async list(actor: Scope, day: string | undefined): Promise<RoomAccess[]> {
    if (actor.status === 'departed' || actor.profile === 'parent' || actor.profile === 'admin_plateforme') return [];
    // A real calendar day (the schema only checks the shape: 2026-13-45 passes it).
    const noon = day === undefined ? undefined : Date.parse(`${day}T12:00:00Z`);
    if (noon !== undefined && (Number.isNaN(noon) || new Date(noon).toISOString().slice(0, 10) !== day)) throw new AppError('request.invalid');
    // Paris days are 23 or 25 hours at the clock changes: the next day's midnight ends this one.
    const bounds = day ? { startMs: parisWallTimeToUtcMs(day, 0), endMs: parisWallTimeToUtcMs(addDays(day, 1), 0) } : parisDayBounds(this.clock.nowMs());
    const staff = actor.profile === 'personnel' || actor.profile === 'admin_etablissement';
    const rows = await this.repo.listFor(
      {
        classIds: [...actor.classIds, ...actor.taughtClassIds], groupIds: [...actor.groupIds, ...actor.taughtGroupIds],
        ...(actor.profile === 'enseignant' ? { teacherId: actor.id } : {}), ...(staff ? { schoolIds: [...actor.schoolIds] } : {}),
      },
      bounds.startMs, bounds.endMs, MAX_LISTED,
    );
    const listed = await this.repo.teacherRolesOf(actor.id, rows.map((r) => r.id));
    const out: RoomAccess[] = [];
    for (const room of rows) {
      const row = listed.get(room.id);
      const role = roleIn(actor, room, row === undefined ? undefined : row === 'teacher' ? 'teacher' : 'co_teacher', false);
      if (role) out.push({ room, role });
    }
    return out;
  }

  private async listed(roomId: string, personId: string): Promise<'teacher' | 'co_teacher' | undefined> {
    const row = (await this.repo.teachers(roomId)).find((t) => t.person_id === personId);
    return row ? (row.role === 'teacher' ? 'teacher' : 'co_teacher') : undefined;
  }

  /** The room and the actor's role in it; 404 for whoever has none (ids are not probed). */
  async access(actor: Scope, roomId: string, guestToken?: string): Promise<RoomAccess> {
    const room = await this.repo.find(roomId);
    if (!room) throw new AppError('classroom.not_found');
    const role = roleIn(actor, room, await this.listed(room.id, actor.id), guestToken !== undefined && this.guestTokenValid(room, guestToken));
    if (!role) throw new AppError('classroom.not_found');
    return { room, role };
  }

  private guestTokenValid(room: RoomRow, token: string): boolean {
    return room.guests_allowed === 1 && room.guest_token_hash !== null && room.guest_token_hash === sha256Hex(token) && (room.guest_token_expires_at ?? 0) > this.clock.nowMs();
  }

  private async moderated(actor: Scope, roomId: string): Promise<RoomAccess> {
    const a = await this.access(actor, roomId);
    if (!canModerate(a.role)) throw new AppError('classroom.teacher_only');
    return a;
  }

  private async meta(room: RoomRow): Promise<RoomMeta> {
    const pupils = await this.repo.audienceSize(room);
    const teachers = (await this.repo.teachers(room.id)).length;
    return { roomId: room.id, schoolId: room.school_id, classId: room.class_id, groupId: room.group_id, expectedParticipants: pupils + teachers };
  }

  /**
   * Makes the room live on this node, or says it lives on another. `takeOver`: its teacher opening
   * it here takes it from a node that no longer has it (stopped or dead) — see docs/CLASSE-VIRTUELLE.md.
   */
  private async host(room: RoomRow, takeOver = false): Promise<void> {
    if (room.status === 'closed') throw new AppError('classroom.closed');
    if (this.runtime.isLive(room.id)) return;
    if (!this.runtime.available) throw new AppError('classroom.media_unavailable', { retryAfterSeconds: 60 });
    if (takeOver) await this.repo.update(room.id, { host_node: this.nodeId });
    else if (!(await this.repo.claimHost(room.id, this.nodeId))) throw new AppError('classroom.other_node');
    try {
      await this.runtime.ensure(await this.meta(room));
    } catch (err) {
      await this.repo.update(room.id, { host_node: null }).catch(() => undefined);
      throw err;
    }
    // Re-hosting (several nodes): a class its teacher opened, whose node stopped or vanished, comes back open
    // on the node the first rejoin reaches (no second click; its live state — chat, hands, polls, lock — is lost).
    // One node (no relay): as before, the restarted node holds everyone in the lobby until the teacher opens again.
    if (this.relay && room.status === 'open') this.runtime.system(room.id, { op: 'open' });
  }

  async open(actor: Scope, roomId: string): Promise<RoomAccess> {
    const { room, role } = await this.moderated(actor, roomId);
    if (room.status === 'closed') throw new AppError('classroom.closed');
    if (room.status !== 'open' && (await this.repo.openCount(room.school_id)) >= this.caps.maxRoomsPerSchool) {
      throw new AppError('classroom.school_full', { params: { max: this.caps.maxRoomsPerSchool }, retryAfterSeconds: 120 });
    }
    // Hosted by another node that is alive: opened there. Gone (nobody listens): taken over here.
    if (await this.relayCall(actor, room, { op: 'open' })) return { room: { ...room, status: 'open', opened_at: room.opened_at ?? this.clock.nowMs() }, role };
    await this.host(room, true);
    const now = this.clock.nowMs();
    if (room.status !== 'open') {
      await this.repo.update(room.id, { status: 'open', opened_at: now });
      this.signal(() => this.signals?.recordClassSession({ sessionId: room.id, schoolId: room.school_id, classId: room.class_id, groupId: room.group_id, startsAt: now }));
    }
    this.runtime.system(room.id, { op: 'open' });
    return { room: { ...room, status: 'open', opened_at: room.opened_at ?? now, host_node: this.nodeId }, role };
  }

  async close(actor: Scope, roomId: string): Promise<RoomAccess> {
    const { room, role } = await this.moderated(actor, roomId);
    if (room.status === 'closed') return { room, role };
    if (this.runtime.isLive(room.id)) this.runtime.system(room.id, { op: 'close' });
    else if (await this.relayCall(actor, room, { op: 'close' })) return { room: { ...room, status: 'closed', closed_at: this.clock.nowMs(), host_node: null }, role };
    else if (!this.relay && room.host_node !== null && room.host_node !== this.nodeId && room.status === 'open') throw new AppError('classroom.other_node');
    const now = this.clock.nowMs();
    await this.repo.update(room.id, { status: 'closed', closed_at: now, host_node: null, guest_token_hash: null, guest_token_expires_at: null });
    await this.flush();
    return { room: { ...room, status: 'closed', closed_at: now, host_node: null }, role };
  }

  async lock(actor: Scope, roomId: string, locked: boolean): Promise<RoomAccess> {
    const a = await this.moderated(actor, roomId);
    if (!this.runtime.isLive(roomId) && (await this.relayCall(actor, a.room, { op: 'lock', locked }))) return a;
    if (!this.runtime.isLive(roomId)) throw new AppError(!this.relay && a.room.host_node && a.room.host_node !== this.nodeId ? 'classroom.other_node' : 'classroom.not_open');
    this.runtime.system(roomId, { op: 'lock', locked });
    return a;
  }

  async setGuests(actor: Scope, roomId: string, allowed: boolean): Promise<RoomAccess> {
    const { room, role } = await this.moderated(actor, roomId);
    const patch = allowed ? { guests_allowed: 1 } : { guests_allowed: 0, guest_token_hash: null, guest_token_expires_at: null };
    await this.repo.update(room.id, patch);
    return { room: { ...room, ...patch }, role };
  }

  /** A new guest link (the previous one stops working). The token is shown once; only its hash is kept. */
  async guestLink(actor: Scope, roomId: string, hours: number | undefined): Promise<{ token: string; expiresAt: number }> {
    const { room } = await this.moderated(actor, roomId);
    if (room.status === 'closed') throw new AppError('classroom.closed');
    if (room.guests_allowed !== 1) throw new AppError('classroom.guests_not_allowed');
    const token = newSecretToken();
    const expiresAt = this.clock.nowMs() + (hours ?? GUEST_LINK_DEFAULT_HOURS) * 3600_000;
    await this.repo.update(room.id, { guest_token_hash: sha256Hex(token), guest_token_expires_at: expiresAt });
    return { token, expiresAt };
  }

  async revokeGuestLink(actor: Scope, roomId: string): Promise<void> {
    await this.moderated(actor, roomId);
    await this.repo.update(roomId, { guest_token_hash: null, guest_token_expires_at: null });
  }

  /** What a guest link opens (a signed-in person holding it): the room, to join with the same token. */
  async invitation(actor: Scope, token: string): Promise<RoomAccess> {
    const room = await this.repo.findByGuestToken(sha256Hex(token));
    if (!room || room.status === 'closed' || !this.guestTokenValid(room, token)) throw new AppError('classroom.guest_link_invalid');
    const role = roleIn(actor, room, await this.listed(room.id, actor.id), true);
    if (!role) throw new AppError('classroom.guest_link_invalid');
    return { room, role };
  }

  async attendance(actor: Scope, roomId: string) {
    const a = await this.access(actor, roomId);
    if (!canReadAttendance(actor, a.room, a.role)) throw new AppError('access.forbidden');
    return { room: a.room, rows: await this.repo.attendance(roomId) };
  }

  // ——— Signalling (the realtime gateway's `classroom` route) ———

  async onMessage(ctx: { personId: string; connectionId: string; ref?: string | undefined }, m: ClassroomMessage): Promise<void> {
    if (this.relay && !this.relay.isRemote(ctx.connectionId)) {
      // One room per socket, as on one node (the runtime's rule), whichever nodes host the two rooms.
      const current = this.runtime.roomOf(ctx.connectionId) ?? this.relay.roomOf(ctx.connectionId);
      if (m.op === 'join' && current !== undefined && current !== m.roomId) throw new AppError('classroom.invalid_command', { params: { reason: 'une seule classe virtuelle par connexion' } });
    }
    if (this.relay && !this.relay.isRemote(ctx.connectionId) && !this.runtime.isLive(m.roomId)) {
      // Several nodes: a room another node hosts is joined there, and every later message of that socket goes there too.
      const host = m.op === 'join' ? await this.hostElsewhere(m.roomId) : this.relay.hostOf(ctx.connectionId, m.roomId);
      if (host !== undefined) {
        if (await this.relay.forward(host, { personId: ctx.personId, connectionId: ctx.connectionId, ref: ctx.ref }, m)) return;
        // Nobody listens there: that node is gone (killed, not stopped). Its room is taken over here, its live state lost;
        // a socket that was in it has been asked to reconnect, and its join on reconnection brings it here or elsewhere.
        if (m.op !== 'join') throw new AppError('classroom.not_joined');
        await this.repo.releaseHost(m.roomId, host);
      }
    }
    const actor = await this.schools.scopeOf(ctx.personId);
    if (m.op === 'join') {
      const { room, role } = await this.access(actor, m.roomId, m.guestToken);
      if (!role) throw new AppError('classroom.not_found');
      try {
        await this.host(room);
      } catch (err) {
        // Two first joins on two nodes at once: the other node claimed the room between our read and our claim. Relayed there.
        const host = this.relay && !this.relay.isRemote(ctx.connectionId) && err instanceof AppError && err.id === 'classroom.other_node' ? await this.hostElsewhere(room.id) : undefined;
        if (host === undefined || !(await this.relay!.forward(host, { personId: ctx.personId, connectionId: ctx.connectionId, ref: ctx.ref }, m))) throw err;
        return;
      }
      this.runtime.join(room.id, ctx.personId, ctx.connectionId, role, await this.repo.displayName(ctx.personId));
      return;
    }
    if (m.op === 'signal') return this.runtime.signal(m.roomId, ctx.personId, ctx.connectionId, m.signal);
    // Opening and closing from the room are the HTTP API's (caps, the room's record, the suivi's session), from a socket that joined.
    if (m.op === 'open' || m.op === 'close') {
      this.runtime.bound(m.roomId, ctx.personId, ctx.connectionId);
      await (m.op === 'open' ? this.open(actor, m.roomId) : this.close(actor, m.roomId));
      return;
    }
    // Every other op acts on a room the socket joined (the reducer checks the role for each).
    const { roomId: _roomId, ...command } = m;
    this.runtime.command(m.roomId, ctx.personId, ctx.connectionId, command as Command);
  }

  /** The node hosting this room when it is another one (an open room, or one whose lobby is filling there). */
  private async hostElsewhere(roomId: string): Promise<string | undefined> {
    const room = await this.repo.find(roomId);
    return room && room.status !== 'closed' && room.host_node !== null && room.host_node !== this.nodeId ? room.host_node : undefined;
  }

  /**
   * A teacher's action on a room another node hosts, done there. False: not hosted elsewhere, or
   * that node is gone (its host mark is released: the caller acts here).
   */
  private async relayCall(actor: Scope, room: RoomRow, call: RelayCall): Promise<boolean> {
    if (!this.relay || this.runtime.isLive(room.id) || room.host_node === null || room.host_node === this.nodeId) return false;
    if (await this.relay.call(room.host_node, actor.id, room.id, call)) return true;
    await this.repo.releaseHost(room.id, room.host_node);
    return false;
  }

  /** A teacher's action relayed by another node (its HTTP API), done here where the room lives. */
  async onRelayedCall(personId: string, roomId: string, call: RelayCall): Promise<void> {
    const actor = await this.schools.scopeOf(personId);
    if (call.op === 'open') await this.open(actor, roomId);
    else if (call.op === 'close') await this.close(actor, roomId);
    else await this.lock(actor, roomId, call.locked);
  }

  // ——— Runtime hooks ———

  onAttendance(meta: RoomMeta, personId: string, a: Attendance, audioOnly: boolean): void {
    const now = this.clock.nowMs();
    this.signal(() => this.repo.addAttendance({ room_id: meta.roomId, person_id: personId, role: a.role, first_joined_at: a.firstJoinedAt, last_left_at: now, seconds: a.seconds, with_video: a.withVideo ? 1 : 0 }));
    if (a.role === 'pupil') this.signal(() => this.signals?.recordClassAttendance({ pupilId: personId, sessionId: meta.roomId, joinedAt: a.firstJoinedAt, minutes: a.seconds / 60, audioOnly }));
  }

  onClosed(meta: RoomMeta, byShutdown: boolean): void {
    // A node that stops lets the room go: its teacher opens it again on another node.
    if (byShutdown) this.signal(() => this.repo.update(meta.roomId, { host_node: null }));
  }

  /**
   * Writes caused by the live rooms (attendance, signals) run beside the room, never in its way:
   * fail open (logged), awaited by flush() before a close answers and before the node stops.
   */
  private signal(write: () => Promise<void> | undefined): void {
    const p = Promise.resolve()
      .then(write)
      .catch((err: unknown) => this.logger.warn({ err }, 'classe virtuelle : enregistrement en échec'));
    this.pending.add(p);
    void p.finally(() => this.pending.delete(p));
  }

  async flush(): Promise<void> {
    while (this.pending.size > 0) await Promise.all([...this.pending]);
  }
}
