/*
 * The C plant model (see plant.h for what it models and what it leaves out). Units inside are
 * the joint's: rad, rad/s, A; counts only at the boundary (targets in, STATE out).
 *
 * Invariants after every sub-step: q_min <= q <= q_max, |qd| <= v_max, |current| <= i_max.
 */
#include "plant.h"

#define MAX_SUB_STEP_US 1000u
#define COAST_FRICTION_PER_S 5.0f
#define BRAKING 0.8f /* share of a_max the position loop plans to brake with */
#define GRAVITY 9.80665f

typedef struct {
    float q, qd, current;
    float target_q, target_v, ff_amps;
    float ramp_v0; /* velocity when the present controlled stop began */
} joint_state_t;

static const plant_joint_t *pj;
static const plant_imu_t *pimu;
static uint8_t n;
static joint_state_t js[SPINAL_MAX_JOINTS];
static uint8_t mode = SPINAL_DRIVE_DISABLE;
static float ramp_scale;
static uint32_t last_us;
static uint32_t rng = 0x2545F491u;
/* IMU samples taken (STATE.imu_sample): from 1, skipping 0 on wrap, since 0 means "no counter". */
static uint16_t imu_samples;

static float clampf(float x, float lo, float hi) { return x < lo ? lo : x > hi ? hi : x; }

static float sqrt_controller(float e, float kp, float accel)
{
    float linear = accel / (kp * kp);
    if (e > linear) return __builtin_sqrtf(2.0f * accel * (e - linear / 2.0f));
    if (e < -linear) return -__builtin_sqrtf(2.0f * accel * (-e - linear / 2.0f));
    return kp * e;
}

/* xorshift32, and an approximately normal sample (Irwin-Hall of 4 uniforms, unit variance). */
static float normal(void)
{
    float s = 0.0f;
    int i;
    for (i = 0; i < 4; i++) {
        rng ^= rng << 13;
        rng ^= rng >> 17;
        rng ^= rng << 5;
        s += (float)(rng >> 8) * (1.0f / 16777216.0f);
    }
    return (s - 2.0f) * 1.7320508f;
}

static float counts_to_rad(const plant_joint_t *j, int32_t counts)
{
    int32_t delta = counts - j->zero_offset;
    if (j->single_turn_cpr > 0) {
        int32_t cpr = j->single_turn_cpr, m = (delta + cpr / 2) % cpr;
        delta = (m < 0 ? m + cpr : m) - cpr / 2;
    }
    return (float)delta / j->counts_per_rad;
}

static int32_t rad_to_counts(const plant_joint_t *j, float rad)
{
    float c = rad * j->counts_per_rad;
    int32_t counts = (int32_t)(c < 0.0f ? c - 0.5f : c + 0.5f) + j->zero_offset;
    if (j->single_turn_cpr > 0) {
        counts %= j->single_turn_cpr;
        if (counts < 0) counts += j->single_turn_cpr;
    }
    return counts;
}

void plant_init(const plant_joint_t *joints, uint8_t joint_count, const plant_imu_t *imu, uint32_t now_us)
{
    uint8_t i;
    pj = joints;
    pimu = imu;
    n = joint_count;
    last_us = now_us;
    for (i = 0; i < n; i++) {
        js[i].q = joints[i].home;
        js[i].target_q = joints[i].home;
    }
}

static void sub_step(float h)
{
    uint8_t i;
    for (i = 0; i < n; i++) {
        const plant_joint_t *j = &pj[i];
        joint_state_t *s = &js[i];
        float ka = j->a_max / j->i_max, a, amps;
        if (mode == SPINAL_DRIVE_DISABLE) {
            amps = 0.0f;
            a = -COAST_FRICTION_PER_S * s->qd;
        } else if (mode == SPINAL_DRIVE_CURRENT) {
            amps = s->ff_amps;
            a = amps * ka;
        } else {
            float v_target = mode == SPINAL_DRIVE_RAMP_DOWN ? s->ramp_v0 * ramp_scale : s->target_v;
            float v_ref;
            if (mode == SPINAL_DRIVE_VELOCITY || mode == SPINAL_DRIVE_RAMP_DOWN) {
                /* the drive integrates the velocity target into a position reference within limits */
                float ref = s->target_q + v_target * h, c = clampf(ref, j->q_min, j->q_max);
                if (c != ref) v_target = 0.0f;
                s->target_q = c;
            }
            v_ref = clampf(v_target + sqrt_controller(s->target_q - s->q, j->kp, BRAKING * j->a_max), -j->v_max, j->v_max);
            a = clampf(j->kv * (v_ref - s->qd) + s->ff_amps * ka, -j->a_max, j->a_max);
            amps = a / ka;
        }
        s->qd = clampf(s->qd + a * h, -j->v_max, j->v_max);
        s->q += s->qd * h;
        if (s->q <= j->q_min) {
            s->q = j->q_min;
            if (s->qd < 0.0f) s->qd = 0.0f;
        } else if (s->q >= j->q_max) {
            s->q = j->q_max;
            if (s->qd > 0.0f) s->qd = 0.0f;
        }
        s->current = amps;
    }
}

static void step_to(uint32_t now_us)
{
    uint32_t left = now_us - last_us; /* wraps correctly */
    /* a stall longer than 100 ms (debugger halt, host descheduling the emulator) is not replayed */
    if (left > 100000u) left = 100000u;
    while (left > 0u) {
        uint32_t h = left > MAX_SUB_STEP_US ? MAX_SUB_STEP_US : left;
        sub_step((float)h * 1e-6f);
        left -= h;
    }
    last_us = now_us;
}

void plant_apply(const spinal_drive_t *out, uint32_t now_us)
{
    uint8_t i, m = out->motors_enabled ? out->mode : (uint8_t)SPINAL_DRIVE_DISABLE;
    bool entering = m != mode;
    step_to(now_us);
    mode = m;
    ramp_scale = out->ramp_scale;
    for (i = 0; i < n; i++) {
        const plant_joint_t *j = &pj[i];
        joint_state_t *s = &js[i];
        /* the core's targets are counts (and counts/s); the drive works in rad */
        float cpr = j->counts_per_rad;
        switch (m) {
        case SPINAL_DRIVE_HOLD:
            if (entering) s->target_q = s->q;
            s->target_v = 0.0f;
            s->ff_amps = 0.0f;
            break;
        case SPINAL_DRIVE_POSITION:
            s->target_q = clampf(counts_to_rad(j, out->position[i]), j->q_min, j->q_max);
            s->target_v = clampf(out->velocity[i] / cpr, -j->v_max, j->v_max);
            s->ff_amps = clampf(out->feedforward[i], -j->i_max, j->i_max);
            break;
        case SPINAL_DRIVE_VELOCITY:
            if (entering) s->target_q = s->q;
            s->target_v = clampf(out->velocity[i] / cpr, -j->v_max, j->v_max);
            s->ff_amps = clampf(out->feedforward[i], -j->i_max, j->i_max);
            break;
        case SPINAL_DRIVE_CURRENT:
            s->ff_amps = clampf(out->feedforward[i], -j->i_max, j->i_max);
            break;
        case SPINAL_DRIVE_RAMP_DOWN:
            if (entering) {
                s->ramp_v0 = s->qd;
                s->target_q = s->q;
            }
            s->ff_amps = 0.0f;
            break;
        default: break;
        }
    }
}

/* v' = R(q)^T v for a unit quaternion q = (w, x, y, z): v in the base frame, v' in the sensor's. */
static void rotate_inverse(const float *q, const float *v, float *out)
{
    float w = q[0], x = q[1], y = q[2], z = q[3];
    float r[3][3] = {
        { 1.0f - 2.0f * (y * y + z * z), 2.0f * (x * y - w * z), 2.0f * (x * z + w * y) },
        { 2.0f * (x * y + w * z), 1.0f - 2.0f * (x * x + z * z), 2.0f * (y * z - w * x) },
        { 2.0f * (x * z - w * y), 2.0f * (y * z + w * x), 1.0f - 2.0f * (x * x + y * y) },
    };
    int i;
    for (i = 0; i < 3; i++) out[i] = r[0][i] * v[0] + r[1][i] * v[1] + r[2][i] * v[2];
}

void plant_read(spinal_state_t *st, uint32_t now_us)
{
    uint8_t i;
    step_to(now_us);
    for (i = 0; i < n; i++) {
        st->position[i] = rad_to_counts(&pj[i], js[i].q);
        st->velocity[i] = js[i].qd * pj[i].counts_per_rad;
        st->current[i] = js[i].current;
    }
    if (pimu != NULL && pimu->present) {
        static const float up[3] = { 0.0f, 0.0f, GRAVITY };
        float a[3];
        int k;
        imu_samples = (uint16_t)(imu_samples + 1u);
        if (imu_samples == 0u) imu_samples = 1u;
        st->imu_sample = imu_samples;
        rotate_inverse(pimu->mount, up, a);
        for (k = 0; k < 3; k++) {
            st->accel[k] = pimu->accel_scale * a[k] + pimu->accel_noise * normal();
            st->gyro[k] = pimu->gyro_bias[k] + pimu->gyro_noise * normal();
        }
        for (k = 0; k < 4; k++) st->quat[k] = pimu->fused ? pimu->mount[k] : __builtin_nanf("");
    } else {
        st->imu_sample = 0u;
    }
}
