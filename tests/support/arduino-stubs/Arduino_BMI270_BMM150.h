/* Stub of Arduino_BMI270_BMM150 1.2 (src/BMI270.h): the Nano 33 BLE Sense Rev2's IMU, in g,
 * degrees per second and uT. */
#pragma once
#include <Arduino.h>
#include <Wire.h>

class BoschSensorClass {
 public:
  BoschSensorClass(TwoWire &wire = Wire);
  ~BoschSensorClass() {}
  int begin();
  void end();
  virtual int readAcceleration(float &x, float &y, float &z);
  virtual int accelerationAvailable();
  virtual float accelerationSampleRate();
  virtual int readGyroscope(float &x, float &y, float &z);
  virtual int gyroscopeAvailable();
  virtual float gyroscopeSampleRate();
  virtual int readMagneticField(float &x, float &y, float &z);
  virtual int magneticFieldAvailable();
  virtual float magneticFieldSampleRate();
};

extern BoschSensorClass IMU_BMI270_BMM150;
#undef IMU
#define IMU IMU_BMI270_BMM150
