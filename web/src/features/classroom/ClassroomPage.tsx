import type { ComponentChildren } from 'preact';
import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { EmptyState, PageTitle } from '../../app/EmptyState.js';
import { errorMessage } from '../../app/errors.js';
import { currentPath, currentSearch, navigate, ROUTES } from '../../app/router.js';
import { announce, lang, me } from '../../app/state.js';
import { useValue } from '../../app/store.js';
import { formatDateTime, formatTime } from '../../i18n/index.js';
import { realtimeOpen } from '../notifications/live.js';
import {
  acceptInvitation, closeClassroom, createClassroom, createGuestLink, getAttendance, getClassroom, listClassrooms, openClassroom, revokeGuestLink, setGuests, teacherChoices,
  type AttendanceEntry, type Classroom, type TeacherChoices,
} from './classroom.api.js';
import { useCT, type ClassroomKey } from './classroom.text.js';
import type { RemoteMedia } from './media-client.js';
import { announcements, isTeacherRole, maySpeak, type Person, type PollView, type RoomView } from './room.model.js';
import { RoomSession } from './room.session.js';

/** The guest link's page (the server's `link`: `/classe-virtuelle/invitation#<token>`). */
/** Whiteboard: coordinates 0..WHITEBOARD_SIZE (server's room.state.ts), at most MAX_STROKE_POINTS points a stroke, these colours and width. */
const WHITEBOARD_SIZE = 10_000;
const MAX_STROKE_POINTS = 64;
const WHITEBOARD_COLORS = ['#000000', '#d62828', '#1d4ed8', '#15803d', '#f59e0b', '#ffffff'] as const;
const STROKE_WIDTH = 4;
/** The chat's limit (server: maxChatChars). */
const MAX_CHAT_CHARS = 500;

/** Route `/classe-virtuelle` (the list, `?salle=<id>`: the room) and the guest link's page. */
export default function ClassroomPage() {
  const search = useValue(currentSearch);
  const path = useValue(currentPath);
  const roomId = new URLSearchParams(search).get('salle');
  const [guestToken, setGuestToken] = useState<string | undefined>();
  if (path === ROUTES.classroomInvitation) return <Invitation onToken={setGuestToken} />;
  if (roomId) return <RoomPage key={roomId} roomId={roomId} guestToken={guestToken} />;
  return <ListPage />;
}

function Invitation({ onToken }: { onToken: (token: string) => void }) {
  const ct = useCT();
  const current = useValue(lang);
  const [error, setError] = useState<string | undefined>();
  useEffect(() => {
    const token = location.hash.slice(1);
    if (!token) return setError(ct('invitationMissing'));
    acceptInvitation(token).then(
      ({ data }) => {
        onToken(token);
        navigate(ROUTES.classroom, { search: `?salle=${encodeURIComponent(data.id)}`, replace: true });
      },
      (err: unknown) => setError(errorMessage(err, current)),
    );
  }, []);
  return (
    <section class="card" aria-labelledby="page-title">
      <PageTitle>{ct('invitation')}</PageTitle>
      {error ? (
        <p class="alert" role="alert">
          {error}
        </p>
      ) : (
        <p role="status">{ct('invitationChecking')}</p>
      )}
    </section>
  );
}

function ListPage() {
  const ct = useCT();
  const current = useValue(lang);
  const person = useValue(me);
  const [rooms, setRooms] = useState<Classroom[] | undefined>();
  const [error, setError] = useState<string | undefined>();
  const load = () =>
    listClassrooms().then(
      ({ data }) => {
        setRooms(data.classrooms);
        setError(undefined);
      },
      (err: unknown) => setError(errorMessage(err, current)),
    );
  useEffect(() => void load(), []);
  return (
    <div aria-labelledby="page-title">
      <PageTitle>{ct('title')}</PageTitle>
      <p>{ct('intro')}</p>
      <section class="card" aria-labelledby="classroom-mine">
        <h2 id="classroom-mine">{ct('mine')}</h2>
        {error && (
          <div class="alert" role="alert">
            <p class="alert-title">{ct('loadError')}</p>
            <p>{error}</p>
            <button type="button" class="button-secondary" onClick={() => void load()}>
              {ct('retry')}
            </button>
          </div>
        )}
        {!rooms && !error && <p role="status">…</p>}
        {rooms && rooms.length === 0 && <EmptyState>{ct('none')}</EmptyState>}
        {rooms && rooms.length > 0 && (
          <ul class="classroom-list" data-testid="classroom-list">
            {rooms.map((r) => (
              <li key={r.id}>
                <a href={`${ROUTES.classroom}?salle=${encodeURIComponent(r.id)}`} class={r.status === 'open' ? 'button' : undefined}>
                  {ct(isTeacherRole(r.yourRole ?? undefined) ? 'enter' : 'join', { title: r.title })}
                </a>{' '}
                <span class={`classroom-status classroom-status-${r.status}`}>{ct(`status.${r.status}`)}</span>
                {r.startsAt && <span> {ct('at', { time: formatTime(r.startsAt, current) })}</span>}
                {isTeacherRole(r.yourRole ?? undefined) && r.status !== 'scheduled' && <AttendancePanel room={r} />}
              </li>
            ))}
          </ul>
        )}
      </section>
      {person?.profile === 'enseignant' && <CreateForm onCreated={() => void load()} />}
    </div>
  );
}

/** How long someone stayed, in words a teacher reads at a glance. */
function presentFor(seconds: number, ct: (key: ClassroomKey, params?: Record<string, string | number>) => string): string {
  return seconds < 60 ? ct('attendance.underMinute') : ct('attendance.minutes', { n: Math.round(seconds / 60) });
}

/** A room's attendance for its teachers: loaded when opened (a closed disclosure costs nothing). */
function AttendancePanel({ room }: { room: Classroom }) {
  const ct = useCT();
  const current = useValue(lang);
  const [rows, setRows] = useState<AttendanceEntry[] | undefined>();
  const [error, setError] = useState<string | undefined>();
  const load = () =>
    getAttendance(room.id).then(
      (list) => {
        setRows(list);
        setError(undefined);
      },
      (err: unknown) => setError(errorMessage(err, current)),
    );
  const time = (iso: string | null) => (iso ? formatTime(iso, current) : '—');
  return (
    <details class="classroom-attendance" onToggle={(e) => (e.currentTarget as HTMLDetailsElement).open && !rows && void load()}>
      <summary>{ct('attendance.show', { title: room.title })}</summary>
      {error && (
        <div class="alert" role="alert">
          <p>{error}</p>
          <button type="button" class="button-secondary" onClick={() => void load()}>
            {ct('retry')}
          </button>
        </div>
      )}
      {!rows && !error && <p role="status">…</p>}
      {rows && rows.length === 0 && <p>{ct('attendance.none')}</p>}
      {rows && rows.length > 0 && (
        <div class="table-scroll">
          <table data-testid="classroom-attendance">
            <caption>{ct('attendance.caption', { title: room.title })}</caption>
            <thead>
              <tr>
                <th scope="col">{ct('attendance.name')}</th>
                <th scope="col">{ct('attendance.arrived')}</th>
                <th scope="col">{ct('attendance.left')}</th>
                <th scope="col">{ct('attendance.duration')}</th>
                <th scope="col">{ct('attendance.media')}</th>
              </tr>
            </thead>
            <tbody>
              {rows.map((r) => (
                <tr key={r.personId}>
                  <th scope="row">
                    {r.name} ({ct(`role.${r.role}`)})
                  </th>
                  <td>{time(r.firstJoinedAt)}</td>
                  <td>{time(r.lastLeftAt)}</td>
                  <td>{presentFor(r.seconds, ct)}</td>
                  <td>{ct(r.audioOnly ? 'attendance.audioOnly' : 'attendance.withVideo')}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </details>
  );
}

function CreateForm({ onCreated }: { onCreated: () => void }) {
  const ct = useCT();
  const current = useValue(lang);
  const [choices, setChoices] = useState<TeacherChoices | undefined>();
  const [source, setSource] = useState('');
  const [title, setTitle] = useState('');
  const [guests, setGuestsAllowed] = useState(false);
  const [error, setError] = useState<string | undefined>();
  const [busy, setBusy] = useState(false);
  useEffect(() => {
    teacherChoices(Date.now()).then(setChoices, (err: unknown) => setError(errorMessage(err, current)));
  }, []);
  const submit = async (e: Event) => {
    e.preventDefault();
    const [kind, id] = source.split(':');
    if (!kind || !id) return;
    setBusy(true);
    try {
      const body = kind === 'lesson' ? { lessonId: id } : { audience: { kind: kind as 'class' | 'group', id } };
      const { data } = await createClassroom({ ...body, ...(title.trim() ? { title: title.trim() } : {}), guestsAllowed: guests });
      announce(ct('created', { title: data.title }));
      setTitle('');
      setError(undefined);
      onCreated();
    } catch (err) {
      setError(errorMessage(err, current));
    } finally {
      setBusy(false);
    }
  };
  return (
    <section class="card" aria-labelledby="classroom-create">
      <h2 id="classroom-create">{ct('create')}</h2>
      <form onSubmit={(e) => void submit(e)}>
        <label for="classroom-source">{ct('audience')}</label>
        <select id="classroom-source" value={source} onChange={(e) => setSource((e.target as HTMLSelectElement).value)} required>
          <option value="">{ct('choose')}</option>
          {choices && choices.lessons.length > 0 && (
            <optgroup label={ct('fromLesson')}>
              {choices.lessons.map((l) => (
                <option key={l.id} value={`lesson:${l.id}`}>
                  {`${formatDateTime(l.startsAt, current)} — ${l.label}`}
                </option>
              ))}
            </optgroup>
          )}
          {choices && (
            <optgroup label={ct('adHoc')}>
              {choices.audiences.map((a) => (
                <option key={`${a.kind}:${a.id}`} value={`${a.kind}:${a.id}`}>
                  {a.label}
                </option>
              ))}
            </optgroup>
          )}
        </select>
        <label for="classroom-title">{ct('titleField')}</label>
        <input id="classroom-title" value={title} maxLength={120} onInput={(e) => setTitle((e.target as HTMLInputElement).value)} />
        <label class="check">
          <input type="checkbox" checked={guests} onChange={(e) => setGuestsAllowed((e.target as HTMLInputElement).checked)} /> {ct('guests')}
        </label>
        {error && (
          <p class="alert" role="alert">
            {error}
          </p>
        )}
        <button type="submit" disabled={busy}>
          {ct('createSubmit')}
        </button>
      </form>
    </section>
  );
}

function RoomPage({ roomId, guestToken }: { roomId: string; guestToken: string | undefined }) {
  const ct = useCT();
  const session = useMemo(() => new RoomSession(roomId, guestToken), [roomId]);
  const view = useValue(session.view);
  const online = useValue(realtimeOpen);
  const mediaState = useValue(session.mediaState);
  const lastError = useValue(session.lastError);
  const current = useValue(lang);
  const [info, setInfo] = useState<Classroom | undefined>();
  const [loadError, setLoadError] = useState<string | undefined>();
  const previous = useRef<RoomView>(view);

  useEffect(() => {
    session.start();
    return () => session.stop();
  }, [session]);
  useEffect(() => {
    getClassroom(roomId).then(({ data }) => setInfo(data), (err: unknown) => setLoadError(errorMessage(err, current)));
  }, [roomId]);
  // Screen-reader announcements: the floor given or taken, new chat messages, hands raised (teachers).
  useEffect(() => {
    for (const a of announcements(previous.current, view)) {
      if (a.key === 'chat') announce(ct('announce.chat', { name: a.name, text: a.text }));
      else if (a.key === 'hand') announce(ct('announce.hand', { name: a.name }));
      else announce(ct(a.key === 'floorGiven' ? 'announce.floorGiven' : 'announce.floorTaken'));
    }
    previous.current = view;
  }, [view]);

  const title = info?.title ?? ct('title');
  return (
    <div class="classroom" aria-labelledby="page-title">
      <p>
        <a href={ROUTES.classroom}>{ct('back')}</a>
      </p>
      <PageTitle>{title}</PageTitle>
      <p class="classroom-state" data-testid="classroom-connection">
        <span>{ct(online ? 'conn.online' : 'conn.offline')}</span>
        {view.phase === 'in' && mediaState && <span> · {ct(`media.${mediaState}` as ClassroomKey)}</span>}
        {view.phase === 'in' && view.you && <span data-testid="classroom-level"> · {ct(`level.${view.you.level}`)}</span>}
        {view.room?.lowBandwidth && <span> · {ct('lowBandwidth')}</span>}
      </p>
      {loadError && (
        <p class="alert" role="alert">
          {loadError}
        </p>
      )}
      {lastError && (
        <p class="alert" role="alert" data-testid="classroom-error">
          {ct('error', { message: lastError.message })}
        </p>
      )}
      {view.phase === 'connecting' && !loadError && <p role="status">{ct('connecting')}</p>}
      {(view.phase === 'waiting-teacher' || view.phase === 'waiting-admission') && (
        <p class="notice" role="status" data-testid="classroom-lobby">
          {ct(view.phase === 'waiting-teacher' ? 'wait.teacher' : 'wait.admission')}
        </p>
      )}
      {view.phase === 'refused' && (
        <p class="alert" role="alert">
          {ct('refused')}
        </p>
      )}
      {view.phase === 'closed' && <p class="notice">{ct('closed')}</p>}
      {view.phase === 'in' && <InRoom session={session} view={view} info={info} onInfo={setInfo} />}
    </div>
  );
}

function InRoom({ session, view, info, onInfo }: { session: RoomSession; view: RoomView; info: Classroom | undefined; onInfo: (c: Classroom) => void }) {
  const teacher = isTeacherRole(view.you?.role);
  return (
    <div class="classroom-grid">
      <Media session={session} view={view} />
      <MyControls session={session} view={view} />
      {teacher && <TeacherPanel session={session} view={view} info={info} onInfo={onInfo} />}
      <People session={session} view={view} />
      <Chat session={session} view={view} />
      <Polls session={session} view={view} />
      <Board session={session} view={view} />
    </div>
  );
}

function Section({ id, title, children, testId }: { id: string; title: string; children: ComponentChildren; testId?: string }) {
  return (
    <section class="card" aria-labelledby={id} data-testid={testId}>
      <h2 id={id}>{title}</h2>
      {children}
    </section>
  );
}

function MediaElement({ media, kind, label }: { media: RemoteMedia; kind: 'audio' | 'video'; label?: string }) {
  const ref = useRef<HTMLVideoElement & HTMLAudioElement>(null);
  // A slot with nothing flowing (a screen not shared) is muted: no black box for it.
  const [flowing, setFlowing] = useState(() => media.stream.getTracks().some((t) => !t.muted));
  useEffect(() => {
    if (ref.current && ref.current.srcObject !== media.stream) ref.current.srcObject = media.stream;
    const tracks = media.stream.getTracks();
    const update = () => setFlowing(tracks.some((t) => !t.muted));
    for (const t of tracks) {
      t.addEventListener('mute', update);
      t.addEventListener('unmute', update);
    }
    update();
    return () => {
      for (const t of tracks) {
        t.removeEventListener('mute', update);
        t.removeEventListener('unmute', update);
      }
    };
  }, [media.stream]);
  if (kind === 'audio') return <audio ref={ref} autoplay data-participant={media.participantId} data-testid="classroom-audio" />;
  return <video ref={ref} autoplay playsInline muted hidden={!flowing} aria-label={label} data-source={media.source} data-participant={media.participantId} data-testid="classroom-video" />;
}

function Media({ session, view }: { session: RoomSession; view: RoomView }) {
  const ct = useCT();
  const remote = useValue(session.remote);
  const nameOf = (id: string) => view.people.find((p) => p.id === id)?.name ?? id;
  const roleOf = (id: string) => view.people.find((p) => p.id === id)?.role;
  const audio = remote.filter((m) => m.source === 'audio');
  const videos = remote.filter((m) => m.source !== 'audio');
  const big = videos.filter((m) => isTeacherRole(roleOf(m.participantId)));
  const small = videos.filter((m) => !isTeacherRole(roleOf(m.participantId)));
  return (
    <Section id="classroom-media" title={ct('media')}>
      {audio.map((m) => (
        <MediaElement key={m.key} media={m} kind="audio" />
      ))}
      {videos.length === 0 && <p class="empty">{ct('noVideo')}</p>}
      <div class="classroom-videos-big">
        {big.map((m) => (
          <MediaElement key={m.key} media={m} kind="video" label={ct(m.source === 'screen' ? 'teacherScreen' : 'teacherVideo')} />
        ))}
      </div>
      <div class="classroom-videos-small">
        {small.map((m) => (
          <MediaElement key={m.key} media={m} kind="video" label={ct('pupilVideo', { name: nameOf(m.participantId) })} />
        ))}
      </div>
    </Section>
  );
}

function MyControls({ session, view }: { session: RoomSession; view: RoomView }) {
  const ct = useCT();
  const screen = useValue(session.screenSharing);
  const you = view.you!;
  const teacher = isTeacherRole(you.role);
  const handUp = view.hands.includes(you.id);
  return (
    <Section id="classroom-me" title={teacher ? ct('teacherVideo') : ct(maySpeak(view) ? 'youHaveFloor' : 'youListen')} testId="classroom-me">
      {!teacher && (
        <button type="button" aria-pressed={handUp} onClick={() => session.send('hand', { raised: !handUp })}>
          {ct(handUp ? 'lowerMyHand' : 'raiseHand')}
        </button>
      )}
      <label class="check">
        <input type="checkbox" checked={you.audioOnly} onChange={(e) => session.send('audio-only', { enabled: (e.target as HTMLInputElement).checked })} /> {ct('audioOnlyToggle')}
      </label>
      <label class="check">
        <input type="checkbox" checked={you.camera} onChange={(e) => session.toggleCamera((e.target as HTMLInputElement).checked)} /> {ct('cameraToggle')}
      </label>
      {teacher && typeof navigator.mediaDevices?.getDisplayMedia === 'function' && (
        <button type="button" class="button-secondary" aria-pressed={screen} onClick={() => session.toggleScreen(!screen)}>
          {ct(screen ? 'stopScreen' : 'shareScreen')}
        </button>
      )}
    </Section>
  );
}

function TeacherPanel({ session, view, info, onInfo }: { session: RoomSession; view: RoomView; info: Classroom | undefined; onInfo: (c: Classroom) => void }) {
  const ct = useCT();
  const current = useValue(lang);
  const [error, setError] = useState<string | undefined>();
  const [link, setLink] = useState<{ url: string; expiresAt: string } | undefined>();
  const room = view.room;
  const run = async (action: () => Promise<unknown>) => {
    try {
      await action();
      setError(undefined);
    } catch (err) {
      setError(errorMessage(err, current));
    }
  };
  return (
    <Section id="classroom-teacher" title={ct('teacherPanel')} testId="classroom-teacher">
      <div class="button-row">
        {room?.status !== 'open' && (
          <button type="button" onClick={() => void run(async () => onInfo((await openClassroom(session.roomId)).data))}>
            {ct('open')}
          </button>
        )}
        <button type="button" class="button-secondary" aria-pressed={room?.locked ?? false} onClick={() => session.send('lock', { locked: !room?.locked })}>
          {ct(room?.locked ? 'unlock' : 'lock')}
        </button>
        <button type="button" class="button-secondary" onClick={() => session.send('mute-all', {})}>
          {ct('muteAll')}
        </button>
        <button type="button" class="button-secondary" onClick={() => session.send('pupil-chat', { enabled: !room?.pupilChat })}>
          {ct(room?.pupilChat ? 'pupilChatOff' : 'pupilChatOn')}
        </button>
        <button type="button" class="button-secondary" onClick={() => void run(async () => onInfo((await closeClassroom(session.roomId)).data))}>
          {ct('close')}
        </button>
      </div>
      {room?.locked && <p>{ct('locked')}</p>}
      {error && (
        <p class="alert" role="alert">
          {error}
        </p>
      )}
      <h3>{ct('lobby', { n: view.lobby.length })}</h3>
      {view.lobby.length === 0 ? (
        <p class="empty">{ct('lobbyEmpty')}</p>
      ) : (
        <>
          <ul data-testid="classroom-lobby-list">
            {view.lobby.map((p) => (
              <li key={p.id}>
                {p.name}{' '}
                <button type="button" class="button-small" onClick={() => session.send('admit', { participantId: p.id })}>
                  {ct('admit', { name: p.name })}
                </button>{' '}
                <button type="button" class="button-small button-secondary" onClick={() => session.send('refuse', { participantId: p.id })}>
                  {ct('refuse', { name: p.name })}
                </button>
              </li>
            ))}
          </ul>
          <button type="button" class="button-secondary" onClick={() => session.send('admit-all', {})}>
            {ct('admitAll')}
          </button>
        </>
      )}
      <h3>{ct('guestLink')}</h3>
      {info && (
        <label class="check">
          <input type="checkbox" checked={info.guestsAllowed ?? false} onChange={(e) => void run(async () => onInfo((await setGuests(session.roomId, (e.target as HTMLInputElement).checked)).data))} />{' '}
          {ct('guestsOn')}
        </label>
      )}
      {link && (
        <p>
          <input readOnly value={link.url} aria-label={ct('guestLink')} class="classroom-link" /> {ct('guestLinkValid', { at: formatDateTime(link.expiresAt, current) })}
        </p>
      )}
      <div class="button-row">
        <button
          type="button"
          class="button-secondary"
          disabled={!info?.guestsAllowed}
          onClick={() =>
            void run(async () => {
              const { data } = await createGuestLink(session.roomId);
              setLink({ url: `${location.origin}${data.link}`, expiresAt: data.expiresAt });
            })
          }
        >
          {ct('guestLinkCreate')}
        </button>
        {link && (
          <button type="button" class="button-secondary" onClick={() => void navigator.clipboard?.writeText(link.url).then(() => announce(ct('guestLinkCopied')))}>
            {ct('guestLinkCopy')}
          </button>
        )}
        {(link || info?.guestLinkExpiresAt) && (
          <button
            type="button"
            class="button-secondary"
            onClick={() =>
              void run(async () => {
                await revokeGuestLink(session.roomId);
                setLink(undefined);
                if (info) onInfo({ ...info, guestLinkExpiresAt: null });
                announce(ct('guestLinkRevoked'));
              })
            }
          >
            {ct('guestLinkRevoke')}
          </button>
        )}
      </div>
    </Section>
  );
}

function People({ session, view }: { session: RoomSession; view: RoomView }) {
  const ct = useCT();
  const teacher = isTeacherRole(view.you?.role);
  const present = view.people;
  // Raised hands first (in the order they were raised), then the others.
  const ordered = [...view.hands.map((id) => present.find((p) => p.id === id)).filter((p): p is Person => p !== undefined), ...present.filter((p) => !view.hands.includes(p.id))];
  return (
    <Section id="classroom-people" title={ct('people', { n: view.people.length })} testId="classroom-people">
      <ul class="classroom-people">
        {ordered.map((p) => {
          const states = [
            ct(`role.${p.role}`),
            p.id === view.you?.id ? ct('you') : '',
            view.hands.includes(p.id) ? ct('handUp') : '',
            view.floor.includes(p.id) ? ct('hasFloor') : '',
            p.audioOnly ? ct('audioOnly') : '',
            p.camera ? ct('cameraOn') : '',
            p.away ? ct('away') : '',
          ].filter(Boolean);
          return (
            <li key={p.id} data-testid="classroom-person" data-person={p.id}>
              <span>
                {p.name} ({states.join(', ')})
              </span>
              {teacher && !isTeacherRole(p.role) && (
                <span class="button-row">
                  {view.floor.includes(p.id) ? (
                    <button type="button" class="button-small" onClick={() => session.send('take-floor', { participantId: p.id })}>
                      {ct('takeFloor', { name: p.name })}
                    </button>
                  ) : (
                    <button type="button" class="button-small" onClick={() => session.send('give-floor', { participantId: p.id })}>
                      {ct('giveFloor', { name: p.name })}
                    </button>
                  )}
                  {view.hands.includes(p.id) && (
                    <button type="button" class="button-small button-secondary" onClick={() => session.send('lower-hand', { participantId: p.id })}>
                      {ct('lowerHand', { name: p.name })}
                    </button>
                  )}
                  <button type="button" class="button-small button-secondary" onClick={() => session.send('board-allow', { participantId: p.id, allowed: !p.board })}>
                    {ct(p.board ? 'denyBoard' : 'allowBoard', { name: p.name })}
                  </button>
                </span>
              )}
            </li>
          );
        })}
      </ul>
    </Section>
  );
}

function Chat({ session, view }: { session: RoomSession; view: RoomView }) {
  const ct = useCT();
  const current = useValue(lang);
  const [text, setText] = useState('');
  const teacher = isTeacherRole(view.you?.role);
  const canWrite = teacher || (view.room?.pupilChat ?? true);
  const submit = (e: Event) => {
    e.preventDefault();
    const value = text.trim();
    if (!value) return;
    if (session.send('chat', { text: value })) setText('');
  };
  return (
    <Section id="classroom-chat" title={ct('chat')} testId="classroom-chat">
      {view.chat.length === 0 ? (
        <p class="empty">{ct('chatEmpty')}</p>
      ) : (
        <ol class="classroom-chat" data-testid="classroom-chat-list">
          {view.chat.map((m) => (
            <li key={m.seq}>
              <span class="classroom-chat-meta">
                {m.name}, {formatTime(m.at, current)} :
              </span>{' '}
              {m.text}
            </li>
          ))}
        </ol>
      )}
      {canWrite ? (
        <form onSubmit={submit} class="classroom-chat-form">
          <label for="classroom-chat-input">{ct('chatLabel')}</label>
          <input id="classroom-chat-input" value={text} maxLength={MAX_CHAT_CHARS} onInput={(e) => setText((e.target as HTMLInputElement).value)} />
          <button type="submit">{ct('chatSend')}</button>
        </form>
      ) : (
        <p>{ct('chatOff')}</p>
      )}
    </Section>
  );
}

function Polls({ session, view }: { session: RoomSession; view: RoomView }) {
  const ct = useCT();
  const teacher = isTeacherRole(view.you?.role);
  const [question, setQuestion] = useState('');
  const [options, setOptions] = useState('');
  const [multiple, setMultiple] = useState(false);
  const create = (e: Event) => {
    e.preventDefault();
    const list = options.split('\n').map((o) => o.trim()).filter(Boolean);
    if (session.send('poll-create', { question: question.trim(), options: list, multiple })) {
      setQuestion('');
      setOptions('');
    }
  };
  return (
    <Section id="classroom-polls" title={ct('polls')} testId="classroom-polls">
      {view.polls.map((p) => (
        <PollCard key={p.id} poll={p} teacher={teacher} session={session} />
      ))}
      {teacher && (
        <form onSubmit={create}>
          <label for="poll-question">{ct('pollQuestion')}</label>
          <input id="poll-question" value={question} required maxLength={200} onInput={(e) => setQuestion((e.target as HTMLInputElement).value)} />
          <label for="poll-options">{ct('pollOptions')}</label>
          <textarea id="poll-options" rows={4} value={options} required onInput={(e) => setOptions((e.target as HTMLTextAreaElement).value)} />
          <label class="check">
            <input type="checkbox" checked={multiple} onChange={(e) => setMultiple((e.target as HTMLInputElement).checked)} /> {ct('pollMultiple')}
          </label>
          <button type="submit">{ct('pollCreate')}</button>
        </form>
      )}
    </Section>
  );
}

function PollCard({ poll, teacher, session }: { poll: PollView; teacher: boolean; session: RoomSession }) {
  const ct = useCT();
  const [chosen, setChosen] = useState<number[]>([]);
  const canAnswer = !teacher && poll.open && poll.mine === null;
  const name = `poll-${poll.id}`;
  return (
    <fieldset class="classroom-poll" data-testid="classroom-poll">
      <legend>
        {poll.question} {!poll.open && `(${ct('pollClosed')})`}
      </legend>
      {canAnswer ? (
        <form
          onSubmit={(e) => {
            e.preventDefault();
            if (chosen.length) session.answerPoll(poll.id, chosen);
          }}
        >
          {poll.options.map((o, i) => (
            <label key={i} class="check">
              <input
                type={poll.multiple ? 'checkbox' : 'radio'}
                name={name}
                checked={chosen.includes(i)}
                onChange={(e) => {
                  const on = (e.target as HTMLInputElement).checked;
                  setChosen(poll.multiple ? (on ? [...chosen, i] : chosen.filter((x) => x !== i)) : [i]);
                }}
              />{' '}
              {o}
            </label>
          ))}
          <button type="submit">{ct('pollAnswer')}</button>
        </form>
      ) : (
        <>
          {poll.mine !== null && <p>{ct('pollMine')}</p>}
          <ul class="classroom-poll-results" data-testid="classroom-poll-results">
            {poll.options.map((o, i) => {
              const count = poll.counts[i] ?? 0;
              const percent = poll.answered ? Math.round((100 * count) / poll.answered) : 0;
              const label = ct('pollCount', { option: o, count, percent });
              return (
                <li key={i}>
                  <span>{label}</span>
                  <progress max={Math.max(1, poll.answered)} value={count} aria-label={label} />
                </li>
              );
            })}
          </ul>
          <p>{ct('pollAnswered', { n: poll.answered })}</p>
        </>
      )}
      {teacher && poll.open && (
        <button type="button" class="button-secondary" onClick={() => session.send('poll-close', { pollId: poll.id })}>
          {ct('pollClose')}
        </button>
      )}
    </fieldset>
  );
}

function Board({ session, view }: { session: RoomSession; view: RoomView }) {
  const ct = useCT();
  const teacher = isTeacherRole(view.you?.role);
  const canDraw = view.you?.board ?? false;
  const [color, setColor] = useState<string>(WHITEBOARD_COLORS[0]);
  const [drawing, setDrawing] = useState<number[] | undefined>();
  const svg = useRef<SVGSVGElement>(null);
  const point = (e: PointerEvent): [number, number] => {
    const r = svg.current!.getBoundingClientRect();
    const clamp = (v: number) => Math.max(0, Math.min(WHITEBOARD_SIZE, Math.round(v)));
    return [clamp(((e.clientX - r.left) / r.width) * WHITEBOARD_SIZE), clamp(((e.clientY - r.top) / r.height) * WHITEBOARD_SIZE)];
  };
  const flush = (points: number[]) => {
    if (points.length >= 4) session.send('stroke', { color, width: STROKE_WIDTH, points });
  };
  const label = ct('boardStrokes', { n: view.strokes.length });
  return (
    <Section id="classroom-board" title={ct('board')} testId="classroom-board">
      <svg
        ref={svg}
        class={`classroom-board${canDraw ? ' classroom-board-draw' : ''}`}
        viewBox={`0 0 ${WHITEBOARD_SIZE} ${WHITEBOARD_SIZE}`}
        preserveAspectRatio="none"
        role="img"
        aria-label={label}
        onPointerDown={(e) => {
          if (!canDraw) return;
          (e.currentTarget as Element).setPointerCapture(e.pointerId);
          setDrawing(point(e));
        }}
        onPointerMove={(e) => {
          if (!drawing) return;
          const next = [...drawing, ...point(e)];
          if (next.length >= MAX_STROKE_POINTS * 2) {
            flush(next);
            setDrawing(next.slice(-2));
          } else setDrawing(next);
        }}
        onPointerUp={() => {
          if (drawing) flush(drawing);
          setDrawing(undefined);
        }}
      >
        {view.strokes.map((s) => (
          <polyline key={s.seq} points={s.points.join(' ')} stroke={s.color} stroke-width={s.width * 10} fill="none" stroke-linecap="round" stroke-linejoin="round" />
        ))}
        {drawing && <polyline points={drawing.join(' ')} stroke={color} stroke-width={STROKE_WIDTH * 10} fill="none" stroke-linecap="round" />}
      </svg>
      <p data-testid="classroom-board-summary">{label}</p>
      {canDraw && (
        <div class="button-row">
          <p>{ct('boardCanDraw')}</p>
          <label for="board-color">{ct('boardColor')}</label>
          <select id="board-color" value={color} onChange={(e) => setColor((e.target as HTMLSelectElement).value)}>
            {WHITEBOARD_COLORS.map((c) => (
              <option key={c} value={c}>
                {ct(`color.${c}`)}
              </option>
            ))}
          </select>
          {teacher && (
            <button type="button" class="button-secondary" onClick={() => session.send('board-clear', {})}>
              {ct('boardClear')}
            </button>
          )}
        </div>
      )}
    </Section>
  );
}
